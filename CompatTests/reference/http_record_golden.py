"""Records the original Flask proxy's answers to CompatTests/http/cases.py.

Run with the rig's py311 against the ORIGINAL server started with an HTTP port, e.g.
  $RIG/py37/bin/bert-serving-start -cpu -model_dir $RIG/minilm-tf1 -num_worker 1 \
      -port 18001 -port_out 18002 -http_port 18003 -http_max_connect 3
  $RIG/py311/bin/python CompatTests/reference/http_record_golden.py http://127.0.0.1:18003 \
      > CompatTests/http/golden/original_http.json
Also records usage token counts with the original tokenizer (bert_serving.server.bert.tokenization, run by py37).
"""
import json
import os
import subprocess
import sys

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'http'))
from cases import CASES, call  # noqa: E402

TOKEN_TEXTS = ['hello world', 'good day!', 'naïve café 北京', 'how are you ||| fine thanks',
               ' '.join(['word'] * 40), 'unaffable antidisestablishmentarianism']

COUNT_TOKENS = r'''
import json, logging, sys
from bert_serving.server.bert import tokenization
from bert_serving.server.bert.extract_features import convert_lst_to_features
vocab, texts, max_seq_len = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
tok = tokenization.FullTokenizer(vocab_file=vocab, do_lower_case=True)
feats = list(convert_lst_to_features(texts, max_seq_len, max_seq_len, tok, logging.getLogger('count'), False, False))
print(json.dumps([sum(f.input_mask) for f in feats]))
'''


def main():
    base = sys.argv[1].rstrip('/')
    s = requests.Session()
    out = {'cases': {}, 'meta': {}}
    for name in CASES:
        out['cases'][name] = call(s, base, name)
    rig = os.environ.get('BSS_RIG_DIR', os.path.expanduser('~/.cache/bert-serving-swift/rig'))
    counts = subprocess.check_output([os.path.join(rig, 'py37', 'bin', 'python'), '-c', COUNT_TOKENS,
                                      os.path.join(rig, 'minilm-tf1', 'vocab.txt'), json.dumps(TOKEN_TEXTS), '25'])
    out['token_counts'] = {'texts': TOKEN_TEXTS, 'max_seq_len': 25, 'counts': json.loads(counts)}
    out['meta'] = {
        'server': 'bert-serving-server 1.10.0 -cpu -http_port (Flask proxy), -http_max_connect 3, model all-MiniLM-L6-v2 TF1',
        'python': subprocess.check_output([os.path.join(rig, 'py37', 'bin', 'python'), '-c',
                                           'import sys, flask, flask_compress, flask_json, flask_cors, werkzeug; '
                                           'print(sys.version.split()[0], "flask", flask.__version__, "werkzeug", werkzeug.__version__, '
                                           '"flask_json", flask_json.__version__, "flask_cors", flask_cors.__version__)']).decode().strip(),
        'command': ' '.join(sys.argv),
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
