#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz/corpus/<target>/ (seed-*). Run from anywhere:

    python3 fuzz/make-corpus.py [path/to/shared]

`shared` (default: ../shared beside the repository) holds the real AT logs. Only the
hand-made seeds (`seed-*`) are written here; the `cov-*` files (and all of `qmtrecv` and
`session`, whose inputs are structured) were grown by the fuzzer and picked for edge coverage
(see docs/fuzzing.md).
"""
import os
import re
import sys

FUZZ = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(FUZZ)
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(REPO), "shared")
CORPUS = os.path.join(FUZZ, "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def module(*lines):
    return b"".join(b"\r\n" + l.encode() + b"\r\n" for l in lines)


# ---- at_decoder: 3-byte header (flags, max chunk, seed) + module bytes -------------------
# flags: bit0 prompt armed, bits1-2 framing (0 Auto, 1 WithLength, 2 WithoutLength, 3 mixed),
# bit3 64-byte bound, bit4 echo after prompt (first seed%32 bytes), bit5 re-arm prompt.
guide_5_1 = (
    module("OK", "OK", '+QMTOPEN: (0-5),"hostname",(1-65535)', "OK", "OK", "+QMTOPEN: 0,0")
    + module('+QMTOPEN: 0,"iot-as-mqtt.cn-shanghai.aliyuncs.com",1883', "OK")
    + module("OK", "+QMTCONN: 0,0,0", "OK", "+QMTSUB: 0,1,0,2")
    + b'\r\n+QMTRECV: 0,0, "topic/example",36,"This is the payload related to topic"\r\n'
    + module("OK", "+QMTUNS: 0,2,0")
    + b"\r\n> "
    + module("OK", "+QMTPUBEX: 0,0,0")
    + b'\r\n+QMTRECV: 0,0,"topic/pub",30,This is test data, hello MQTT.\r\n'
    + module("OK", "+QMTDISC: 0,0")
)
write("at_decoder", "guide-5.1-auto", bytes([0x00, 7, 1]) + guide_5_1)
write("at_decoder", "guide-5.1-withlength", bytes([0x02, 63, 2]) + guide_5_1)
write("at_decoder", "guide-5.1-bytewise", bytes([0x06, 0, 3]) + guide_5_1)
echo_on = (
    b'AT\r\r\nOK\r\nAT+QMTPUBEX=0,1,1,0,"t",5\r\r\n> hello\r\nOK\r\n'
    b'\r\n+QMTRECV: 0,4,"t",7,"a\r\n,"b""\r\n\r\n+QMTPUBEX: 0,1,0\r\n\r\n+QMTSTAT: 0,1\r\n'
)
write("at_decoder", "echo-on-pubex", bytes([0x30, 5, 5]) + b"hello" + echo_on)
payload = '{"a":"x,y",\r\n"b":"OK"}\r\nERROR'
crlf = ('\r\n+QMTRECV: 3,7,"dev/down",%d,"%s"\r\n\r\nOK\r\n' % (len(payload), payload)).encode()
write("at_decoder", "crlf-payload-by-length", bytes([0x02, 3, 9]) + crlf)
write("at_decoder", "no-length-forms", bytes([0x04, 11, 4]) + (
    b'\r\n+QMTRECV: 0,1,"main_topic","AT+QMTPUBEX=0,1\r\n"\r\n\r\nOK\r\n'
    b'\r\n+QMTRECV: 0,1,test,M95 Hello World\r\n'
    b'\r\n+QMTRECV: 0,1,"$aws/x","{"state":{"a":"1"}}"\r\n'
    b'\r\n+QMTRECV: 0,1\r\n\r\n+QMTRECV: 0,1,0,0,0,0\r\n'
    b"\r\nERROR\r\n\r\n+CME ERROR: 10\r\n\r\n+CME ERROR: SIM not inserted\r\n"
))
write("at_decoder", "split-form-and-utf8", bytes([0x06, 2, 6]) + (
    b'\r\n+QMTRECV: 0,0,"topic",5\r\nhello\r\n'
    + '\r\n+QMTRECV: 0,0,"t",6,"測試"\r\n'.encode()
))
write("at_decoder", "overlong-64", bytes([0x08, 13, 7]) + b"x" * 100 + b"\r\nOK\r\n")

# The real AT logs: the session text without the headers, lines re-framed in CR LF as the
# module sends them (commands echoed with a bare CR when they start with AT).
logs = os.path.join(SHARED, "at-logs")
for i, name in enumerate(sorted(os.listdir(logs)) if os.path.isdir(logs) else []):
    if not name.endswith(".txt"):
        continue
    out = b""
    with open(os.path.join(logs, name), "rb") as f:
        for raw in f.read().split(b"\n"):
            if raw.startswith(b"#"):
                continue
            line = raw.strip()
            if not line:
                continue
            if line.upper().startswith(b"AT"):
                out += line + b"\r"
            else:
                out += b"\r\n" + line + b"\r\n"
    stem = re.sub(r"[^a-z0-9]+", "-", name[:-4].lower())[:40]
    write("at_decoder", "log-" + stem, bytes([0x21 | (i % 4) << 1, 17 + i, i]) + out[:3000])

# ---- app_line: the app JSON Lines of shared/contracts/app-json.md ------------------------
lines = [
    '{"properties": {"temp": 23.5, "on": true}}',
    '{"event": "overheat", "params": {"temp": 90}}',
    '{"reply": "42", "code": 200, "data": {"result": 1}}',
    '{"topic": "/pk/dn/user/up", "payload": "text or JSON"}',
    '{"topic": "/pk/dn/user/up", "payload": {"a": [1, 2.5e-3, null]}}',
    '{"topic": "/pk/dn/user/bin", "payload": "AAEC/w==", "encoding": "base64"}',
    '{"properties": {"temp": 21.5}, "time": 1764000000123, "qos": 0, "id": "u1", "service": "Climate"}',
    '{"reply": "7", "code": 400, "message": "bad", "to": "set"}',
    '{"reply": "8", "code": 200, "to": "call", "name": "reboot", "service": "Power", "data": null}',
    '{"event": "e", "params": {}, "time": null, "qos": 1}',
]
for i, l in enumerate(lines):
    write("app_line", "contract-%02d" % i, l)

# ---- downlinks: selector byte (index of the target's topic list) + payload ----------------
aliyun = [  # indices of fuzz_targets/aliyun_downlink.rs
    (0, '{"id":"123","version":"1.0","params":{"Power":"on"},"method":"thing.service.property.set"}'),
    (1, '{"id":"124","version":"1.0","params":["Power","WF"],"method":"thing.service.property.get"}'),
    (2, '{"id":"125","version":"1.0","params":{"delay":5},"method":"thing.service.Reboot"}'),
    (3, '{"id":"126","version":"1.0","params":{},"method":"thing.service.GetStatus"}'),
    (4, '{"code":200,"data":{},"id":"123","message":"success","method":"thing.event.property.post","version":"1.0"}'),
    (5, '{"code":6813,"data":{},"id":"123","message":"The format of result is error!"}'),
    (6, '{"id":"42","code":200,"data":{"Result":1}}'),
    (7, "ping"),
    (8, '{"deviceSendTime":"1571724098000","serverRecvTime":"1571724098110","serverSendTime":"1571724098115"}'),
    (9, "hello"),
    (10, "{}"),
    (11, '{"deviceSecret":"x"}'),
]
for i, p in aliyun:
    write("aliyun_downlink", "t%02d" % i, bytes([i]) + p.encode())
write("aliyun_downlink", "other-topic", b"\xe0\x0f/a1B2c3D4e5F/x/" + b"hi")

def sel(i, n, model):
    # The topic is `sel % n`; a selector from 0x80 on (below 0xE0) adds the thing model.
    return i if not model else next(s for s in range(0x80, 0xE0) if s % n == i)


onenet = [  # indices of fuzz_targets/onenet_downlink.rs
    (0, '{"id":"123","version":"1.0","params":{"temperature":"30.5"}}'),
    (0, '{"id":"123","version":"1.0","params":{"i32":5,"on":true,"label":"x"}}'),
    (1, '{"id":"123","version":"1.0","params":["temperature","humidity"]}'),
    (2, '{"id":"123","version":"1.0","params":{"a":1}}'),
    (3, '{"id":"123","version":"1.0","params":{"Power1":"on","WF1":"2"}}'),
    (4, '{"id":"123","code":200,"msg":"xxxx"}'),
    (5, '{"id":"456","code":200}'),
    (6, '{"id":"124","code":200,"msg":"xxx","data":{"temperature":39.5,"humidity":20}}'),
    (9, '{"id":"789","code":200,"data":{"c":7}}'),
    (10, "switch:on"),
    (11, '{"id":123}'),
    (12, '{"id":123,"err_code":98,"err_msg":"Illegal Data"}'),
]
for n, (i, p) in enumerate(onenet):
    model = n % 2 == 1  # every other seed with the thing model
    name = "t%02d-%d%s" % (i, n, "-model" if model else "")
    write("onenet_downlink", name, bytes([sel(i, 13, model)]) + p.encode())

huawei = [  # indices of fuzz_targets/huawei_downlink.rs
    (0, '{"object_device_id":"5f1a2b3c4d_dev001","service_id":"WaterMeter","command_name":"ON_OFF","paras":{"value":"1"}}'),
    (0, '{"service_id":"Climate","command_name":"SET_LEVEL","paras":{"value":3}}'),
    (1, '{"object_device_id":"5f1a2b3c4d_dev001","services":[{"service_id":"Climate","properties":{"temp":21.5,"on":true}}]}'),
    (2, '{"object_device_id":"5f1a2b3c4d_dev001","service_id":"Temperature"}'),
    (3, '{"object_device_id":"x","shadow":[{"service_id":"WaterMeter","desired":{"properties":{"temperature":"60"},"event_time":"20151212T121212Z"},"reported":{"properties":{"temperature":"60"},"event_time":"20151212T121212Z"},"version":1}]}'),
    (4, '{"object_device_id":"x","services":[{"service_id":"$time_sync","event_type":"time_sync_response","event_time":"20200226T030000Z","paras":{"device_send_time":1582685678789,"server_recv_time":1582685696152,"server_send_time":1582685708109}}]}'),
    (5, '{"object_device_id":"x","name":null,"id":"aca6a906","content":"hello!"}'),
    (6, '{"address":"iot-mqtts.cn-north-4.myhuaweicloud.com:8883"}'),
    (7, "raw bytes"),
]
for n, (i, p) in enumerate(huawei):
    model = n % 2 == 1  # every other seed with the thing model
    name = "t%02d-%d%s" % (i, n, "-model" if model else "")
    write("huawei_downlink", name, bytes([sel(i, 8, model)]) + p.encode())

# ---- profile: the repository's profiles/*.toml with secrets inline (the target skips `_file`)
profiles = os.path.join(REPO, "profiles")
inline = [
    (r"^device_secret_file = .*$", 'device_secret = "0123456789abcdef0123456789abcdef"'),
    (r"^product_secret_file = .*$", 'product_secret = "pr0duct-s3cr3t-value"'),
    (r"^secret_file = .*$", 'secret = "s3cr3t-Passw0rd"'),
    (r"^access_key_file = .*$", 'access_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="'),
]
for name in sorted(os.listdir(profiles)) if os.path.isdir(profiles) else []:
    if name.endswith(".toml"):
        with open(os.path.join(profiles, name)) as f:
            text = f.read()
        for pattern, repl in inline:
            text = re.sub(pattern, repl, text, flags=re.M)
        write("profile", name[:-5], text)
