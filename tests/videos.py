"""Real video files for the tests and the bench, encoded here with PyAV (FFmpeg's encoders in its wheel): a
festival trailer as MP4 (H.264 + AAC, with a title, a GPS position and a comment that must not survive the
upload) and as WebM (VP9 + Opus, VP8 + Opus); the first 5% of every picture is black (a fade-in), the rest
coloured, so a poster taken at 10% is never black."""

from __future__ import annotations

import math
import struct
from functools import lru_cache
from pathlib import Path

import av
from PIL import Image, ImageDraw

TRAILER_METADATA = {
    "title": "Sommerklänge am Wörthersee – Trailer (intern)",
    "location": "+46.6247+014.3050/",
    "comment": "Gedreht mit Jürgens Telefon",
}
POSTER_COLOUR = (200, 40, 60)  # the picture's main colour after the fade-in
FAST = {
    "libx264": {"preset": "ultrafast"},
    "libvpx": {"deadline": "realtime", "cpu-used": "16"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8"},
}


@lru_cache(maxsize=16)
def _noise(size: tuple[int, int], variant: int) -> Image.Image:
    """A hard-to-compress picture (a big file from a few seconds); a dozen of them, reused in turn."""
    return Image.merge(
        "RGB", [Image.effect_noise(size, 90 + variant).point(lambda v, c=c: (v + c) % 256) for c in POSTER_COLOUR]
    )


def _picture(index: int, frames: int, size: tuple[int, int], noise: bool) -> Image.Image:
    if index < frames // 20:
        return Image.new("RGB", size, (0, 0, 0))
    image = _noise(size, index % 12).copy() if noise else Image.new("RGB", size, POSTER_COLOUR)
    ImageDraw.Draw(image).rectangle((index % size[0], 0, index % size[0] + 8, size[1]), fill=(250, 250, 250))
    return image


def make_video(
    path: Path,
    muxer: str = "mp4",
    video: str | None = "libx264",
    audio: str | None = "aac",
    seconds: float = 3,
    size: tuple[int, int] = (320, 180),
    fps: int = 25,
    metadata: dict | None = None,
    noise: bool = False,
    bitrate: int | None = None,
) -> Path:
    """Encode a video (or with `video=None` a sound-only file) to `path`."""
    with av.open(str(path), "w", format=muxer) as out:
        out.metadata.update(metadata or {})
        picture = sound = None
        if video:
            picture = out.add_stream(video, rate=fps)
            picture.width, picture.height = size
            picture.pix_fmt = "yuv420p"
            picture.options = FAST.get(video, {})
            if bitrate:
                picture.bit_rate = bitrate
        if audio:
            sound = out.add_stream(audio, rate=48000, layout="stereo")
        if picture is not None:
            frames = int(seconds * fps)
            for index in range(frames):
                frame = av.VideoFrame.from_image(_picture(index, frames, size, noise))
                frame.pts = index
                out.mux(picture.encode(frame))
            out.mux(picture.encode())
        if sound is not None:
            samples = sound.codec_context.frame_size or 1024
            tone = b"".join(
                struct.pack("<hh", v, v)
                for v in (int(6000 * math.sin(2 * math.pi * 375 * k / 48000)) for k in range(samples))
            )
            for start in range(0, int(seconds * 48000), samples):
                frame = av.AudioFrame(format="s16", layout="stereo", samples=samples)
                frame.planes[0].update(tone)
                frame.sample_rate, frame.pts = 48000, start
                out.mux(sound.encode(frame))
            out.mux(sound.encode())
    return path


def samples(folder: Path) -> dict[str, Path]:
    """Every file the video tests upload, made once per folder."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {
        "mp4": make_video(folder / "trailer.mp4", metadata=TRAILER_METADATA),
        "webm": make_video(folder / "aftermovie.webm", "webm", "libvpx-vp9", "libopus"),
        "vp8": make_video(folder / "teaser.webm", "webm", "libvpx", "libopus", seconds=2, size=(160, 90)),
        "silent": make_video(folder / "silent.webm", "webm", "libvpx-vp9", None),
        "audio": make_video(folder / "podcast.mp4", "mp4", None, "aac"),
    }
    webm = made["webm"].read_bytes()
    (folder / "truncated.webm").write_bytes(webm[: len(webm) // 2])  # cut mid-cluster: the header says 3 s
    made["truncated"] = folder / "truncated.webm"
    mp4 = made["mp4"].read_bytes()
    (folder / "truncated.mp4").write_bytes(mp4[: len(mp4) // 2])  # index at the end: cut off with it
    made["truncated_mp4"] = folder / "truncated.mp4"
    return made
