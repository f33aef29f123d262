"""The session runtime's parts, in process: output capture, execution, figures, media, framing
and the Landlock path list. (The Java tests run the whole thing in real, isolated processes.)"""

import io
import os
import socket
import threading
import time

import cv2
import numpy as np
import pytest
from PIL import Image

from rolloutfarm_sandbox import figures, isolation, media, protocol, runtime
from rolloutfarm_sandbox.capture import BoundedWriter

LIMITS = dict(
    max_stdout_chars=50,
    max_stderr_chars=400,
    max_images=2,
    max_image_pixels=10_000,
    max_input_pixels=1_000_000,
)


def session():
    figures.install()
    s = runtime.Session.__new__(runtime.Session)
    s.limits = LIMITS
    s.globals = {"__name__": "__main__"}
    return s


def test_bounded_writer_keeps_the_head_and_marks_the_cut():
    w = BoundedWriter(10)
    w.write("abcdef")
    w.write("ghijklmnop")
    assert w.getvalue() == "abcdefghij\n...[output truncated: 6 more characters not shown]"
    with pytest.raises(TypeError):
        w.write(b"bytes")


def test_execute_keeps_state_and_prints_a_trailing_expression():
    s = session()
    header, blobs = s.execute("x = 20")
    assert header["status"] == "ok" and header["stdout"] == "" and blobs == []
    header, _ = s.execute("x * 2 + 2")
    assert header["stdout"] == "42\n"
    header, _ = s.execute("None")
    assert header["stdout"] == ""


def test_errors_name_type_and_message_and_keep_only_user_frames():
    s = session()
    header, _ = s.execute("def f():\n    return {}['k']\nf()")
    assert header["status"] == "error"
    assert header["error"] == "KeyError: 'k'"
    assert 'File "<code>", line 2, in f' in header["stderr"]
    assert "runtime.py" not in header["stderr"]


def test_output_is_capped():
    s = session()
    header, _ = s.execute("print('y' * 1000)")
    assert header["stdout"].startswith("y" * 50)
    assert "[output truncated: 951 more characters not shown]" in header["stdout"]


def test_show_captures_figures_within_caps():
    s = session()
    header, blobs = s.execute(
        "import matplotlib.pyplot as plt\n"
        "for i in range(3):\n    plt.figure(figsize=(4, 3), dpi=100); plt.plot([i]); plt.show()\n"
        "from PIL import Image\nImage.new('RGB', (5, 5)).show()"
    )
    assert header["status"] == "ok"
    assert len(blobs) == 2 and header["dropped"] == 2
    for png, (w, h) in zip(blobs, header["sizes"]):
        img = Image.open(io.BytesIO(png))
        assert img.size == (w, h)
        assert w * h <= 10_000


def test_images_decode_and_wrong_types_are_named():
    buffer = io.BytesIO()
    Image.new("RGB", (7, 3), (1, 2, 3)).save(buffer, format="PNG")
    png = buffer.getvalue()
    image = media.decode_image("image_clue_0", "image/png", io.BytesIO(png), 100)
    assert image.size == (7, 3)
    with pytest.raises(media.MediaError, match="declared image/jpeg but the data is PNG"):
        media.decode_image("image_clue_0", "image/jpeg", io.BytesIO(png), 100)
    with pytest.raises(media.MediaError, match="exceed the cap of 20"):
        media.decode_image("image_clue_0", "image/png", io.BytesIO(png), 20)


@pytest.mark.parametrize("eager_bytes", [1 << 30, 0])
def test_video_reader_eager_and_on_demand(tmp_path, eager_bytes):
    path = str(tmp_path / "clip.mp4")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), 5.0, (16, 8))
    for i in range(6):
        writer.write(np.full((8, 16, 3), 40 * i, np.uint8))
    writer.release()
    v = media.VideoReader(path, eager_bytes=eager_bytes)
    assert len(v) == 6
    assert v.get_avg_fps() == pytest.approx(5.0)
    assert v[0].shape == (8, 16, 3)
    assert round(v[-1].mean() / 40) == 5
    assert v.get_batch(np.array([1, 3])).shape == (2, 8, 16, 3)
    assert [round(f.mean() / 40) for f in v[0:6:2]] == [0, 2, 4]
    with pytest.raises(IndexError):
        v[6]


def test_frames_round_trip_over_a_socket():
    a, b = socket.socketpair()
    with a, b:
        protocol.send(a, {"op": "exec", "code": "1"}, [b"\x00\x01", b""])
        header, blobs = protocol.receive(b.makefile("rb"))
    assert header == {"op": "exec", "code": "1", "blobs": 2}
    assert blobs == [b"\x00\x01", b""]


def _send_slowly(sock, header, blobs):
    """Sends a message in small pieces with pauses, as a busy server might."""
    raw = io.BytesIO()

    class Recorder:
        def sendall(self, data):
            raw.write(data)

    protocol.send(Recorder(), header, blobs)
    data = raw.getvalue()

    def pump():
        for i in range(0, len(data), 1000):
            sock.sendall(data[i : i + 1000])
            time.sleep(0.0005)

    thread = threading.Thread(target=pump)
    thread.start()
    return thread


def test_streamed_blob_reads_seeks_and_skips_while_bytes_arrive():
    a, b = socket.socketpair()
    with a, b:
        payload = bytes(range(256)) * 40
        sender = _send_slowly(a, {"op": "open"}, [payload, b"next"])
        rfile = b.makefile("rb")
        assert protocol.receive_header(rfile)["blobs"] == 2
        blob = protocol.StreamedBlob(rfile)
        assert blob.length == len(payload)
        assert blob.read(3) == payload[:3]
        blob.seek(5000)
        assert blob.read(10) == payload[5000:5010]
        blob.seek(1)
        assert blob.tell() == 1 and blob.read(2) == payload[1:3]
        blob.skip_rest()
        assert blob.read() == b""
        following = protocol.StreamedBlob(rfile)
        assert following.read() == b"next"
        sender.join()


def test_media_decode_as_they_arrive_and_a_bad_item_leaves_the_stream_aligned(tmp_path):
    png = io.BytesIO()
    Image.new("RGB", (300, 200), (9, 8, 7)).save(png, format="PNG")
    header = {
        "op": "open",
        "media": [
            {"name": "image_clue_0", "mime": "image/png"},
            {"name": "image_clue_1", "mime": "image/png"},
        ],
    }
    a, b = socket.socketpair()
    with a, b:
        sender = _send_slowly(a, header, [png.getvalue(), png.getvalue()])
        rfile = b.makefile("rb")
        values = media.receive_all(protocol.receive_header(rfile), rfile, 10**6, str(tmp_path))
        sender.join()
        assert values["image_clue_0"].getpixel((299, 199)) == (9, 8, 7)
        assert values["image_clue_1"].size == (300, 200)

        # The first item is refused on its header; the rest is still read, so the connection
        # stays usable and the next message arrives intact.
        sender = _send_slowly(a, header, [png.getvalue(), png.getvalue()])
        with pytest.raises(media.MediaError, match="exceed the cap of 1000"):
            media.receive_all(protocol.receive_header(rfile), rfile, 1000, str(tmp_path))
        sender.join()
        protocol.send(a, {"op": "exec", "code": "1"})
        assert protocol.receive(rfile) == ({"op": "exec", "code": "1", "blobs": 0}, [])


def test_landlock_paths_never_include_the_work_root_or_its_parents(tmp_path):
    work_root = tmp_path / "root"
    work_root.mkdir()
    paths = isolation.readable_paths([str(tmp_path), str(work_root), "/usr/share"], str(work_root))
    assert str(tmp_path.resolve()) not in paths
    assert str(work_root.resolve()) not in paths
    assert "/" not in paths
    assert "/usr" in paths
    assert os.path.realpath("/usr/share") in paths
