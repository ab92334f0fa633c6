"""The floor of the HTTP runs: a bare Flask route with no database, no session and no
template, served by the same gunicorn configuration as the application."""
from flask import Flask

app = Flask(__name__)

PAGE = "<!doctype html><html lang=\"zh-CN\"><title>整改跟踪</title><p>你好</p></html>"


@app.get("/")
def index():
    return PAGE
