#!/usr/bin/env python3
# A stand-in server for testing the replay runner itself (test_replay.py): it answers each
# request with the replies captured for it (same identity and req_id), optionally corrupted,
# so the tests can show that the runner passes a faithful server and fails an altered one.
#
#   BSS_FAKE_CAPTURE=capture.msgpack BSS_FAKE_CORRUPT=<mode> fake_server.py -port P -port_out Q ...
#
# Modes: none, flip_float, drop_json_key, wrong_req_id, extra_frame, drop_reply, tokens (alter one reply);
# reply_all (also answer what the original never answered, with an ERROR header, as ours does).
import os
import sys
import time

import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'capture'))
import bss_capture  # noqa: E402


def corrupt(frames, mode):
    """The reply altered by `mode`, or None when the mode does not apply to this reply."""
    orig = list(frames)
    frames = list(frames)
    if mode == 'flip_float' and len(frames) == 4:
        b = bytearray(frames[2])
        b[3] ^= 0x01  # the exponent's low bit of the first float32: at least doubles or halves it
        frames[2] = bytes(b)
    elif mode == 'drop_json_key' and len(frames) == 3:
        frames[1] = frames[1].replace(b'"max_seq_len": ', b'"max_seq_len_": ', 1)
    elif mode == 'wrong_req_id':
        frames[-1] = b'%d' % (int(frames[-1]) + 1000)
    elif mode == 'extra_frame':
        frames.insert(1, b'')
    elif mode == 'tokens' and len(frames) == 4:
        frames[1] = frames[1].replace(b'"tokens": ""', b'"tokens": []', 1)
    return frames if frames != orig else None


def main():
    argv = sys.argv[1:]
    port = int(argv[argv.index('-port') + 1])
    port_out = int(argv[argv.index('-port_out') + 1])
    cap = bss_capture.read_capture(os.environ['BSS_FAKE_CAPTURE'])
    mode = os.environ.get('BSS_FAKE_CORRUPT', 'none')
    replies = {}
    for ev in cap['events']:
        if ev['dir'] == 's2c':
            replies.setdefault((ev['frames'][0], ev['frames'][-1]), []).append(ev['frames'])
    ctx = zmq.Context()
    pull = ctx.socket(zmq.PULL)
    pull.bind('tcp://127.0.0.1:%d' % port)
    pub = ctx.socket(zmq.PUB)
    pub.bind('tcp://127.0.0.1:%d' % port_out)
    print('I:VENTILATOR:[fake]: all set, ready to serve request!', flush=True)
    done_once = False
    while True:
        req = pull.recv_multipart()
        if len(req) == 4 and req[1] == b'TERMINATION':
            break
        time.sleep(0.1)  # like the original's config reply: late enough for the SUB to be there
        if mode == 'reply_all' and (len(req) != 4 or (req[0], req[2]) not in replies):
            # what ours does with a request the original never answers: an error the client raises
            pub.send_multipart([req[0], b'{"dtype": "ERROR: fake", "shape": [], "tokens": ""}', b'',
                                req[2] if len(req) > 2 else b'0'])
            continue
        if len(req) != 4:
            continue
        for frames in replies.get((req[0], req[2]), []):
            if mode == 'drop_reply' and not done_once:
                done_once = True
                continue
            if not done_once:
                bad = corrupt(frames, mode)
                if bad is not None:
                    frames, done_once = bad, True
            pub.send_multipart(frames)
    pull.close()
    pub.close()
    ctx.term()


if __name__ == '__main__':
    main()
