"""The Python ceiling: Flask under gunicorn answering files' bytes as constants (read once at start), with the
content type our reads send (by the file's suffix). `FESTIVALS_BENCH_BODIES` names the folder; `/<name>`
answers that file."""

import mimetypes
import os

from flask import Flask, Response

from common.settings import Suite, load

app = Flask(__name__)
folder = load(Suite).bench_bodies
BODIES = {name: open(os.path.join(folder, name), "rb").read() for name in os.listdir(folder)}


@app.get("/<name>")
def body(name):
    return Response(BODIES[name], mimetype=mimetypes.guess_type(name)[0])
