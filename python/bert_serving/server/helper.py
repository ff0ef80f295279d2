"""Command-line parsers of bert-serving-server 1.10.0, for code that builds its arguments in Python.

`get_args_parser`, `get_benchmark_parser` and `get_shutdown_parser` declare the same options,
types, defaults, aliases and help texts as the original `bert_serving/server/helper.py`, so
`parse_args([...])` gives the same `argparse.Namespace` (tested against the original package).
The Swift executables parse the real command line themselves; these parsers exist for
`BertServer(args)`, which turns a namespace back into a command line (`namespace_to_argv`).
"""
import argparse
import logging
import sys

__all__ = ['set_logger', 'get_args_parser', 'get_benchmark_parser', 'get_shutdown_parser',
           'get_run_args', 'check_max_seq_len', 'namespace_to_argv']


def set_logger(context, verbose=False):
    """A logger printing `I:CONTEXT:[fil:fun:line]:message` to stderr, like the original's."""
    logger = logging.getLogger(context)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    formatter = logging.Formatter(
        '%(levelname)-.1s:' + context + ':[%(filename).3s:%(funcName).3s:%(lineno)3d]:%(message)s',
        datefmt='%m-%d %H:%M:%S')
    handler = logging.StreamHandler()
    handler.setLevel(logging.DEBUG if verbose else logging.INFO)
    handler.setFormatter(formatter)
    logger.handlers = [handler]
    return logger


def check_max_seq_len(value):
    """`-max_seq_len` type: an int > 3, or NONE (any case) for dynamic length.

    Like the original, a non-integer string raises ValueError (only TypeError is caught), which
    argparse reports as "invalid check_max_seq_len value: 'abc'".
    """
    if value is None or value.lower() == 'none':
        return None
    try:
        ivalue = int(value)
        if ivalue <= 3:
            raise argparse.ArgumentTypeError("%s is an invalid int value must be >3 "
                                             "(account for maximum three special symbols in BERT model) or NONE" % value)
    except TypeError:
        raise argparse.ArgumentTypeError("%s is an invalid int value" % value)
    return ivalue


def get_args_parser():
    """The parser of `bert-serving-start`."""
    from . import __version__
    from .graph import PoolingStrategy

    parser = argparse.ArgumentParser(description='Start a BertServer for serving')

    paths = parser.add_argument_group(
        'File Paths', 'config the path, checkpoint and filename of a pretrained/fine-tuned BERT model')
    paths.add_argument('-model_dir', type=str, required=True,
                       help='directory of a pretrained BERT model')
    paths.add_argument('-tuned_model_dir', type=str,
                       help='directory of a fine-tuned BERT model')
    paths.add_argument('-ckpt_name', type=str, default='bert_model.ckpt',
                       help='filename of the checkpoint file. By default it is "bert_model.ckpt", but '
                            'for a fine-tuned model the name could be different.')
    paths.add_argument('-config_name', type=str, default='bert_config.json',
                       help='filename of the JSON config file for BERT model.')
    paths.add_argument('-graph_tmp_dir', type=str, default=None,
                       help='path to graph temp file')

    bert = parser.add_argument_group('BERT Parameters', 'config how BERT model and pooling works')
    bert.add_argument('-max_seq_len', type=check_max_seq_len, default=25,
                      help='maximum length of a sequence, longer sequence will be trimmed on the right side. '
                           'set it to NONE for dynamically using the longest sequence in a (mini)batch.')
    bert.add_argument('-cased_tokenization', dest='do_lower_case', action='store_false', default=True,
                      help='Whether tokenizer should skip the default lowercasing and accent removal.'
                           'Should be used for e.g. the multilingual cased pretrained BERT model.')
    bert.add_argument('-pooling_layer', type=int, nargs='+', default=[-2],
                      help='the encoder layer(s) that receives pooling. '
                           'Give a list in order to concatenate several layers into one')
    bert.add_argument('-pooling_strategy', type=PoolingStrategy.from_string,
                      default=PoolingStrategy.REDUCE_MEAN, choices=list(PoolingStrategy),
                      help='the pooling strategy for generating encoding vectors')
    bert.add_argument('-mask_cls_sep', action='store_true', default=False,
                      help='masking the embedding on [CLS] and [SEP] with zero. '
                           'When pooling_strategy is in {CLS_TOKEN, FIRST_TOKEN, SEP_TOKEN, LAST_TOKEN} '
                           'then the embedding is preserved, otherwise the embedding is masked to zero before pooling')
    bert.add_argument('-no_special_token', action='store_true', default=False,
                      help='add [CLS] and [SEP] in every sequence, '
                           'put sequence to the model without [CLS] and [SEP] when True and '
                           'is_tokenized=True in Client')
    bert.add_argument('-show_tokens_to_client', action='store_true', default=False,
                      help='sending tokenization results to client')
    bert.add_argument('-no_position_embeddings', action='store_true', default=False,
                      help='Whether to add position embeddings for the position of each token in the sequence.')

    serving = parser.add_argument_group('Serving Configs', 'config how server utilizes GPU/CPU resources')
    serving.add_argument('-port', '-port_in', '-port_data', type=int, default=5555,
                         help='server port for receiving data from client')
    serving.add_argument('-port_out', '-port_result', type=int, default=5556,
                         help='server port for sending result to client')
    serving.add_argument('-http_port', type=int, default=None,
                         help='server port for receiving HTTP requests')
    serving.add_argument('-http_max_connect', type=int, default=10,
                         help='maximum number of concurrent HTTP connections')
    serving.add_argument('-cors', type=str, default='*',
                         help='setting "Access-Control-Allow-Origin" for HTTP requests')
    serving.add_argument('-num_worker', type=int, default=1,
                         help='number of server instances')
    serving.add_argument('-max_batch_size', type=int, default=256,
                         help='maximum number of sequences handled by each worker')
    serving.add_argument('-priority_batch_size', type=int, default=16,
                         help='batch smaller than this size will be labeled as high priority,'
                              'and jumps forward in the job queue')
    serving.add_argument('-cpu', action='store_true', default=False,
                         help='running on CPU (default on GPU)')
    serving.add_argument('-xla', action='store_true', default=False,
                         help='enable XLA compiler (experimental)')
    serving.add_argument('-fp16', action='store_true', default=False,
                         help='use float16 precision (experimental)')
    serving.add_argument('-gpu_memory_fraction', type=float, default=0.5,
                         help='determine the fraction of the overall amount of memory '
                              'that each visible GPU should be allocated per worker. '
                              'Should be in range [0.0, 1.0]')
    serving.add_argument('-device_map', type=int, nargs='+', default=[],
                         help='specify the list of GPU device ids that will be used (id starts from 0). '
                              'If num_worker > len(device_map), then device will be reused; '
                              'if num_worker < len(device_map), then device_map[:num_worker] will be used')
    serving.add_argument('-prefetch_size', type=int, default=10,
                         help='the number of batches to prefetch on each worker. When running on a CPU-only machine, '
                              'this is set to 0 for comparability')
    serving.add_argument('-fixed_embed_length', action='store_true', default=False,
                         help='when "max_seq_len" is set to None, the server determines the "max_seq_len" according to '
                              'the actual sequence lengths within each batch. When "pooling_strategy=NONE", '
                              'this may cause two ".encode()" from the same client results in different sizes [B, T, D].'
                              'Turn this on to fix the "T" in [B, T, D] to "max_position_embeddings" in bert json config.')

    parser.add_argument('-verbose', action='store_true', default=False,
                        help='turn on tensorflow logging for debug')
    parser.add_argument('-version', action='version', version='%(prog)s ' + __version__)
    return parser


def get_run_args(parser_fn=get_args_parser, printed=True):
    """Parses `sys.argv` and, like the original, prints the `ARG   VALUE` table to stdout."""
    args = parser_fn().parse_args()
    if printed:
        param_str = '\n'.join(['%20s = %s' % (k, v) for k, v in sorted(vars(args).items())])
        print('usage: %s\n%20s   %s\n%s\n%s\n' % (' '.join(sys.argv), 'ARG', 'VALUE', '_' * 50, param_str))
    return args


def get_benchmark_parser():
    """The parser of `bert-serving-benchmark`: the start parser plus the experiment grid."""
    parser = get_args_parser()
    parser.description = 'Benchmark BertServer locally'

    parser.set_defaults(num_client=1, client_batch_size=4096)

    group = parser.add_argument_group('Benchmark parameters', 'config the experiments of the benchmark')

    group.add_argument('-test_client_batch_size', type=int, nargs='*', default=[1, 16, 256, 4096])
    group.add_argument('-test_max_batch_size', type=int, nargs='*', default=[8, 32, 128, 512])
    group.add_argument('-test_max_seq_len', type=int, nargs='*', default=[32, 64, 128, 256])
    group.add_argument('-test_num_client', type=int, nargs='*', default=[1, 4, 16, 64])
    group.add_argument('-test_pooling_layer', type=int, nargs='*', default=[[-j] for j in range(1, 13)])

    group.add_argument('-wait_till_ready', type=int, default=30,
                       help='seconds to wait until server is ready to serve')
    group.add_argument('-client_vocab_file', type=str, default='README.md',
                       help='file path for building client vocabulary')
    group.add_argument('-num_repeat', type=int, default=10,
                       help='number of repeats per experiment (must >2), '
                            'as the first two results are omitted for warm-up effect')
    return parser


def get_shutdown_parser():
    """The parser of `bert-serving-terminate`."""
    parser = argparse.ArgumentParser()
    parser.description = 'Shutting down a BertServer instance running on a specific port'

    parser.add_argument('-ip', type=str, default='localhost',
                        help='the ip address that a BertServer is running on')
    parser.add_argument('-port', '-port_in', '-port_data', type=int, required=True,
                        help='the port that a BertServer is running on')
    parser.add_argument('-timeout', type=int, default=5000,
                        help='timeout (ms) for connecting to a server')
    return parser


def _format_value(value):
    """One command-line token for a parsed value (the inverse of the option's `type`)."""
    from .graph import PoolingStrategy
    if value is None:
        return 'NONE'  # only -max_seq_len takes None as a value
    if isinstance(value, PoolingStrategy):
        return value.name
    if isinstance(value, float):
        return repr(value)
    return str(value)


def namespace_to_argv(args, parser_fn=get_args_parser):
    """Rebuilds a command line that parses back into `args` (options left at their default are omitted).

    Attributes the parser does not know are ignored; a missing attribute counts as its default.
    Scalar values are written as `-name=value`, so values starting with '-' survive.

    Raises:
        ValueError: a list option holds an empty list, which `nargs='+'` cannot express.
    """
    argv = []
    for action in parser_fn()._actions:
        if not action.option_strings or action.dest in (argparse.SUPPRESS, 'help', 'version'):
            continue
        flag = action.option_strings[0]
        value = getattr(args, action.dest, action.default)
        if value == action.default and type(value) is type(action.default):
            continue
        if isinstance(action, argparse._StoreTrueAction):
            if value:
                argv.append(flag)
        elif isinstance(action, argparse._StoreFalseAction):
            if not value:
                argv.append(flag)
        elif action.nargs in ('+', '*'):
            items = list(value) if isinstance(value, (list, tuple)) else [value]
            if not items:
                if action.nargs == '+':
                    raise ValueError('%s: an empty list cannot be passed on the command line' % flag)
                argv.append(flag)
                continue
            argv.append(flag)
            argv.extend(_format_value(v) for v in items)
        else:
            argv.append('%s=%s' % (flag, _format_value(value)))
    return argv
