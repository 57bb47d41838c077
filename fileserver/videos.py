"""Videos: probe the container and its streams with FFmpeg's own demuxers (PyAV; never the name or the declared
type), remux without metadata (no re-encode), and take a poster frame at about 10% of the duration.

Accepted: MP4 with H.264, H.265 or AV1 video (AAC or Opus sound, or none), and WebM with VP8, VP9 or AV1 video
(Opus or Vorbis sound, or none). A file whose packets end well before the duration its header declares is
truncated; one without a video stream is refused too."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import av

from fileserver.http import FilesError

log = logging.getLogger("festivals.files.videos")

# container family (FFmpeg's demuxer name) -> (output muxer, type, video codecs, audio codecs)
CONTAINERS = {
    "mov,mp4,m4a,3gp,3g2,mj2": ("mp4", "video/mp4", {"h264", "hevc", "av1"}, {"aac", "opus"}),
    "matroska,webm": ("webm", "video/webm", {"vp8", "vp9", "av1"}, {"opus", "vorbis"}),
}
MUXERS = {mimetype: muxer for muxer, mimetype, _, _ in CONTAINERS.values()}
ACCEPTED = "an MP4 (H.264, H.265 or AV1 with AAC or Opus) or WebM (VP8, VP9 or AV1 with Opus or Vorbis) video"
POSTER_AT = 0.10  # of the duration: past a fade-in from black, before the story starts


@dataclass(frozen=True)
class Probe:
    mimetype: str
    duration: float  # seconds
    width: int
    height: int
    video_codec: str
    audio_codec: str | None


def _open(path: str):
    try:
        return av.open(path, "r", options={"probesize": "5000000"})
    except (av.FFmpegError, UnicodeDecodeError, ValueError):
        raise FilesError(400, f"the file could not be read as {ACCEPTED} (not a video, or truncated)") from None


def _streams(container) -> tuple:
    """(family, video stream, audio stream or None); FilesError(400) for anything else."""
    family = CONTAINERS.get(container.format.name)
    if family is None:
        raise FilesError(400, f"the file is not {ACCEPTED}")
    _, _, video_codecs, audio_codecs = family
    videos, audios = list(container.streams.video), list(container.streams.audio)
    if not videos:
        raise FilesError(400, "the file has no video stream (sound only?): upload " + ACCEPTED)
    if len(videos) > 1 or len(audios) > 1:
        raise FilesError(400, "the video must have one picture stream and at most one sound stream")
    video, audio = videos[0], audios[0] if audios else None
    if video.codec_context.name not in video_codecs or (
        audio is not None and audio.codec_context.name not in audio_codecs
    ):
        found = video.codec_context.name + (f" with {audio.codec_context.name}" if audio is not None else "")
        raise FilesError(400, f"the video is {found}; upload {ACCEPTED}")
    if not video.codec_context.width or not video.codec_context.height:
        raise FilesError(400, "the video's picture size could not be read (truncated or damaged)")
    return family, video, audio


def _check_duration(seconds: float, limit: int) -> None:
    if seconds > limit:
        raise FilesError(422, f"the video is {seconds:.0f} seconds long; the limit is {limit} seconds")


def remux(source: str, target: str, max_seconds: int) -> Probe:
    """Probe `source` and copy its picture and sound packets into `target` (a path), without the container's
    or the streams' metadata (title, GPS, camera, comments). FilesError 400 for a file we do not take, 422 when
    it is longer than `max_seconds`."""
    with _open(source) as container:
        (muxer, mimetype, _, _), video, audio = _streams(container)
        declared = container.duration / av.time_base if container.duration else 0.0
        _check_duration(declared, max_seconds)
        streams = [stream for stream in (video, audio) if stream is not None]
        ends = {}
        try:
            # faststart: the index first, so players start (and seek with Range) before the whole file arrived
            with av.open(
                target, "w", format=muxer, options={"movflags": "+faststart"} if muxer == "mp4" else {}
            ) as out:
                copies = {stream.index: out.add_stream_from_template(stream) for stream in streams}
                for copy in copies.values():
                    copy.metadata.clear()
                for packet in container.demux(*streams):
                    if packet.dts is None:  # the demuxer's flush packet
                        continue
                    if packet.pts is not None:
                        end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
                        ends[packet.stream.index] = max(ends.get(packet.stream.index, 0.0), end)
                    packet.stream = copies[packet.stream.index]
                    out.mux(packet)
        except FilesError:
            raise
        except (av.FFmpegError, ValueError) as exc:
            log.info("video refused while copying: %s: %s", type(exc).__name__, exc)
            raise FilesError(400, "the video could not be read to its end (truncated or damaged)") from None
        measured = max(ends.values(), default=0.0)
        if measured <= 0 or (declared and measured < declared * 0.97 - 0.25):
            raise FilesError(400, "the video could not be read to its end (truncated or damaged)")
        duration = declared or measured
        _check_duration(duration, max_seconds)
        context = video.codec_context
        return Probe(
            mimetype,
            round(duration, 3),
            context.width,
            context.height,
            context.name,
            audio.codec_context.name if audio is not None else None,
        )


def poster_frame(fileobj, duration: float) -> bytes:
    """A PNG of the first picture at or after POSTER_AT of the duration (a seekable file object of the stored
    video), for the image variant code to scale and encode."""
    with av.open(fileobj, "r") as container:
        video = container.streams.video[0]
        video.thread_type = "AUTO"
        at = duration * POSTER_AT
        container.seek(int(at * av.time_base), backward=True)  # the keyframe before, then decode up to `at`
        chosen = None
        for frame in container.decode(video):
            chosen = frame
            if frame.time is not None and frame.time >= at:
                break
        if chosen is None:
            raise FilesError(404, "the video has no picture to show")
        out = io.BytesIO()
        chosen.to_image().save(out, "PNG")
        return out.getvalue()
