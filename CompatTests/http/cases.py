"""HTTP requests replayed against the original Flask proxy (to record goldens) and against ours.

Each case: name -> (method, path, requests kwargs). Shared by
CompatTests/reference/http_record_golden.py (original, bert-serving-server 1.10.0 -http_port) and
CompatTests/http/test_http.py (ours).
"""

J = {'Content-Type': 'application/json'}
NO_GZIP = {'Accept-Encoding': 'identity'}

CASES = {
    'ok': ('POST', '/encode', dict(json={'id': 123, 'texts': ['hello world', 'good day!'], 'is_tokenized': False})),
    'ok_tokenized': ('POST', '/encode', dict(json={'id': 'x', 'texts': [['hello', 'world']], 'is_tokenized': True})),
    'ok_id_null': ('POST', '/encode', dict(json={'id': None, 'texts': ['a']})),
    'ok_id_float_extra_key': ('POST', '/encode', dict(json={'id': 1.5, 'texts': ['hello'], 'extra': [1]})),
    'ok_unicode': ('POST', '/encode', dict(json={'id': 'ü', 'texts': ['naïve café', '北京欢迎你', 'emoji 😀 ok']})),
    'ok_pair': ('POST', '/encode', dict(json={'id': 9, 'texts': ['how are you ||| fine thanks']})),
    'no_id': ('POST', '/encode', dict(json={'texts': ['a']})),
    'no_texts': ('POST', '/encode', dict(json={'id': 1})),
    'texts_str': ('POST', '/encode', dict(json={'id': 1, 'texts': 'hello'})),
    'texts_empty': ('POST', '/encode', dict(json={'id': 1, 'texts': []})),
    'texts_int': ('POST', '/encode', dict(json={'id': 1, 'texts': ['a', 3]})),
    'texts_none_elem': ('POST', '/encode', dict(json={'id': 1, 'texts': [None]})),
    'texts_blank': ('POST', '/encode', dict(json={'id': 1, 'texts': ['a', ' ']})),
    'texts_blank_unicode': ('POST', '/encode', dict(json={'id': 1, 'texts': ['a', '\u3000\t\n']})),
    'texts_dict': ('POST', '/encode', dict(json={'id': 1, 'texts': {'a': [1, 2.5, None, True]}})),
    'texts_quote_repr': ('POST', '/encode', dict(json={'id': 1, 'texts': ["it's", 2]})),
    'tokenized_not_lists': ('POST', '/encode', dict(json={'id': 1, 'texts': ['ab'], 'is_tokenized': True})),
    'tokenized_empty_inner': ('POST', '/encode', dict(json={'id': 1, 'texts': [[]], 'is_tokenized': True})),
    'tokenized_str': ('POST', '/encode', dict(json={'id': 1, 'texts': 'ab', 'is_tokenized': True})),
    'is_tokenized_str': ('POST', '/encode', dict(json={'id': 1, 'texts': ['ab'], 'is_tokenized': 'yes'})),
    'is_tokenized_zero': ('POST', '/encode', dict(json={'id': 1, 'texts': ['ab'], 'is_tokenized': 0})),
    'bad_json': ('POST', '/encode', dict(data=b'{bad', headers=J)),
    'no_body': ('POST', '/encode', dict()),
    'text_plain': ('POST', '/encode', dict(data=b'{"id":1,"texts":["a"]}', headers={'Content-Type': 'text/plain'})),
    'json_array': ('POST', '/encode', dict(json=[1, 2])),
    'json_null': ('POST', '/encode', dict(data=b'null', headers=J)),
    'json_string': ('POST', '/encode', dict(data=b'"abc"', headers=J)),
    'json_number': ('POST', '/encode', dict(data=b'5', headers=J)),
    'form': ('POST', '/encode', dict(data={'id': '5', 'texts': 'hello world'})),
    'form_multi': ('POST', '/encode', dict(data={'id': '5', 'texts': ['hello', 'world']})),
    'form_no_id': ('POST', '/encode', dict(data={'texts': 'x'})),
    'gzip': ('POST', '/encode', dict(json={'id': 1, 'texts': ['hello']}, headers={'Accept-Encoding': 'gzip'})),
    'deflate': ('POST', '/encode', dict(json={'id': 1, 'texts': ['hello']}, headers={'Accept-Encoding': 'deflate'})),
    'identity': ('POST', '/encode', dict(json={'id': 1, 'texts': ['hello']}, headers=NO_GZIP)),
    'cors_origin': ('POST', '/encode', dict(json={'id': 1, 'texts': ['hello']}, headers={'Origin': 'http://example.com'})),
    'preflight': ('OPTIONS', '/encode', dict(headers={'Origin': 'http://example.com', 'Access-Control-Request-Method': 'POST',
                                                      'Access-Control-Request-Headers': 'content-type'})),
    'status_server': ('GET', '/status/server', dict()),
    'status_client': ('GET', '/status/client', dict(headers=NO_GZIP)),
}

# Compared loosely: the status values are volatile, only keys and value types must agree.
VOLATILE = {'status_server', 'status_client'}
# Headers whose values must agree.
HEADERS = ['Content-Type', 'Content-Encoding', 'Vary', 'Access-Control-Allow-Origin',
           'Access-Control-Allow-Methods', 'Access-Control-Allow-Headers']


def call(session, base, name):
    method, path, kwargs = CASES[name]
    r = session.request(method, base + path, **kwargs)
    try:
        body = r.json()
        kind = 'json'
    except ValueError:
        body = r.text
        kind = 'text'
    return {'status': r.status_code, 'kind': kind, 'body': body,
            'headers': {h: r.headers.get(h) for h in HEADERS}}
