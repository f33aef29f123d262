"""The OpenCV-backed decord-like reader the local checks bind as video_clue_0."""

import numpy as np
import pytest

from rolloutfarm_suite.video import VideoReader, write_mp4


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    frames = np.full((10, 32, 48, 3), 128, dtype=np.uint8)
    for t in range(10):
        frames[t, 8:24, 2 * t : 2 * t + 16] = (255, 0, 0)  # a red block moving right
    path = str(tmp_path_factory.mktemp("video") / "clip.mp4")
    write_mp4(path, frames, 5.0)
    return path, frames


def test_length_fps_and_frame_shape(clip):
    reader = VideoReader(clip[0])
    assert len(reader) == 10
    assert reader.get_avg_fps() == pytest.approx(5.0)
    assert reader[0].shape == (32, 48, 3) and reader[0].dtype == np.uint8


def test_frames_come_back_as_rgb_close_to_what_was_written(clip):
    reader = VideoReader(clip[0])
    for t in (0, 5, 9):
        red = reader[t][16, 2 * t + 8]
        assert red[0] > 200 and red[1] < 60 and red[2] < 60
    assert np.abs(reader[-1].astype(int) - clip[1][-1]).mean() < 8


def test_get_batch_and_bounds(clip):
    reader = VideoReader(clip[0])
    batch = reader.get_batch([0, 3, 9])
    assert batch.shape == (3, 32, 48, 3)
    assert np.array_equal(batch[1], reader[3])
    with pytest.raises(IndexError, match="frame 10 out of range for a video of 10 frames"):
        reader[10]


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="cannot open video"):
        VideoReader(str(tmp_path / "none.mp4"))
