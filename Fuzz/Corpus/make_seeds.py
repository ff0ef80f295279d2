"""Seed corpora for the fuzz targets (run with the rig's py311; idempotent, deterministic).

FuzzWire/: every distinct client->server message ("c2s" events) of the committed captures
(CompatTests/capture/captures/*.msgpack), in FuzzWire's input layout (per frame a 2-byte
little-endian length, then the bytes), plus a few hand-made malformed messages.
FuzzTokenizer/: sentences taken from the captured encode requests, in FuzzTokenizer's layout
(one settings byte, then sequences separated by U+001E, tokens by U+001F).
Files are named by the SHA-1 of their content, as libFuzzer names what it adds.
"""
import glob
import hashlib
import json
import os

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURES = os.path.join(HERE, '..', '..', 'CompatTests', 'capture', 'captures')
MAX_SEED = 16384


def wire(frames):
    out = bytearray()
    for f in frames:
        f = f[:0xFFFF]
        out += len(f).to_bytes(2, 'little') + f
    return bytes(out)


def write(folder, data):
    os.makedirs(folder, exist_ok=True)
    if len(data) > MAX_SEED:
        return False
    path = os.path.join(folder, hashlib.sha1(data).hexdigest())
    if not os.path.exists(path):
        with open(path, 'wb') as f:
            f.write(data)
    return True


def main():
    wire_dir = os.path.join(HERE, 'FuzzWire')
    tok_dir = os.path.join(HERE, 'FuzzTokenizer')
    seen = set()
    texts = []
    for path in sorted(glob.glob(os.path.join(CAPTURES, '*.msgpack'))):
        with open(path, 'rb') as f:
            cap = msgpack.unpackb(f.read(), raw=False)
        for ev in cap['events']:
            if ev.get('dir') != 'c2s':
                continue
            frames = [bytes(x) for x in ev['frames']]
            data = wire(frames)
            if data in seen:
                continue
            seen.add(data)
            write(wire_dir, data)
            if len(frames) == 4:
                try:
                    body = json.loads(frames[1])
                except ValueError:
                    continue
                if isinstance(body, list):
                    for item in body:
                        if isinstance(item, str):
                            texts.append(('t', item))
                        elif isinstance(item, list) and all(isinstance(t, str) for t in item):
                            texts.append(('k', item))
    for frames in ([b'id', b'["a"]', b'1'], [b'', b'["a"]', b'1', b'1'], [b'id', b'["a"]', b'x', b'1'],
                   [b'id', b'["a", 1]', b'1', b'2'], [b'id', b'[["a", "b"], ["c"]]', b'2', b'2'],
                   [b'id', b'["\\ud800"]', b'3', b'1'], [b'id', b'[]', b'4', b'0'], [b'id', b'SHOW_CONFIG', b'5', b'0']):
        write(wire_dir, wire(frames))
    n = 0
    for i, (kind, item) in enumerate(texts[:400]):
        if kind == 't':
            data = bytes([i % 64 & 0xFC]) + item.encode('utf-8', 'surrogatepass')
        else:
            data = bytes([(i % 64 & 0xFC) | 0x02]) + '\x1f'.join(item).encode('utf-8', 'surrogatepass')
        n += write(tok_dir, data)
    # a batch with a pair, and a pre-tokenized pair
    write(tok_dir, b'\x10' + 'first sentence ||| second one\x1eanother line\x1e\u00e9t\u00e9 caf\u00e9'.encode())
    write(tok_dir, b'\x12' + 'a\x1fb\x1f|||\x1fc'.encode())
    print('FuzzWire: %d files, FuzzTokenizer: %d files' % (len(os.listdir(wire_dir)), len(os.listdir(tok_dir))))


if __name__ == '__main__':
    main()
