"""WeChat's own crypto, from the wechatpy SDK (PyPI), as an oracle for Kefu's: it seals a callback the way WeChat
does, and opens what Kefu answers.

  python3 wechatpy_oracle.py seal TOKEN AES_KEY APP_ID NONCE TIMESTAMP < message.xml
      -> {"encrypt": "...", "msg_signature": "..."}
  python3 wechatpy_oracle.py open TOKEN AES_KEY APP_ID < kefu-reply.xml
      -> the reply's message, decrypted after its signature is checked (exit 1 when it is not WeChat's format)
"""
import json
import re
import sys

from wechatpy.crypto import WeChatCrypto


def main():
    action, token, key, app_id = sys.argv[1:5]
    crypto = WeChatCrypto(token, key, app_id)
    data = sys.stdin.read()
    if action == "seal":
        nonce, timestamp = sys.argv[5:7]
        sealed = crypto.encrypt_message(data, nonce, timestamp)
        field = lambda name: re.search(rf"<{name}><!\[CDATA\[(.*?)\]\]></{name}>|<{name}>(.*?)</{name}>", sealed)
        pick = lambda name: next(g for g in field(name).groups() if g is not None)
        print(json.dumps({"encrypt": pick("Encrypt"), "msg_signature": pick("MsgSignature")}))
    elif action == "open":
        grab = lambda name: re.search(rf"<{name}>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</{name}>", data).group(1)
        print(crypto.decrypt_message(data, grab("MsgSignature"), grab("TimeStamp"), grab("Nonce")))
    else:
        sys.exit(f"unknown action {action}")


if __name__ == "__main__":
    main()
