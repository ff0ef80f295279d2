# Original README, "Monitoring the service status in a dashboard" (ip='server_ip' -> loopback).
import json
from bert_serving.client import BertClient
bc = BertClient(ip='127.0.0.1')

status = json.dumps(bc.server_status, ensure_ascii=False)
print(status[:200])
assert 'statistic' in json.loads(status) and json.loads(status)['server_version'] == '1.10.0'
print('monitoring: ok')
