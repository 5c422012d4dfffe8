"""Audio for calls: uploads checked and converted to what a telephone line
carries (8 kHz, mono, 16-bit PCM WAV; ffmpeg), and texts spoken by offline
speech engines (espeak-ng's Russian voice; festival's Russian voice where it is
installed).  A synthesis is cached by engine, voice and text, so a campaign —
or a thousand of them — synthesises a text once."""

import array
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

RATE = 8000
# Uploads are accepted in these containers (ffprobe's format names).
FORMATS = {"mp3": "mp3", "wav": "wav", "ogg": "ogg"}
EXTENSIONS = (".mp3", ".wav", ".ogg")
# Below this peak (of 32767) a recording is silence.
SILENCE_PEAK = 300
TOOL_TIMEOUT = 60


class AudioError(ValueError):
    """Audio we cannot use; ``message`` is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Voice:
    code: str
    label: str
    engine: str


VOICES = (
    Voice("espeak:ru", "eSpeak NG, русский", "espeak"),
    Voice("festival:ru", "Festival, русский (msu_ru_nsh)", "festival"),
)


def voices() -> list[Voice]:
    """The voices this machine can speak with (festival only where installed)."""
    return [v for v in VOICES if shutil.which(_engine_binary(v.engine))]


def voice_get(code: str) -> Voice:
    for v in voices():
        if v.code == code:
            return v
    raise AudioError(_("Голос «%(v)s» недоступен.") % {"v": code})


def _engine_binary(engine: str) -> str:
    return {"espeak": "espeak-ng", "festival": "text2wave"}[engine]


@dataclass(frozen=True)
class Telephony:
    """A converted audio: its WAV bytes, length and the digest that names it."""

    wav: bytes
    duration_ms: int
    sha256: str


def _run(args: list[str], *, data: bytes | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            args, input=data, capture_output=True, timeout=TOOL_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise AudioError(_("Обработка аудио заняла слишком много времени.")) from None
    except FileNotFoundError:
        raise AudioError(
            _("На сервере не установлен %(tool)s: обработка аудио недоступна.")
            % {"tool": args[0]}
        ) from None


def probe(path: str) -> tuple[str, float]:
    """(container, duration in seconds) of a file with an audio stream, else
    ``AudioError``."""
    result = _run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "format=format_name,duration:stream=codec_type",
            "-of",
            "json",
            path,
        ]
    )
    try:
        info = json.loads(result.stdout or b"{}")
    except ValueError:
        info = {}
    streams = [s.get("codec_type") for s in info.get("streams", [])]
    if result.returncode != 0 or "audio" not in streams:
        raise AudioError(_("Файл не является аудиозаписью (нужен mp3, wav или ogg)."))
    names = set((info.get("format") or {}).get("format_name", "").split(","))
    container = next((f for f in FORMATS if f in names), "")
    if not container:
        raise AudioError(_("Формат не поддерживается: загрузите mp3, wav или ogg."))
    try:
        duration = float((info.get("format") or {}).get("duration") or 0)
    except ValueError:
        duration = 0.0
    return container, duration


def to_telephony(path: str) -> Telephony:
    """Convert an audio file to 8 kHz mono 16-bit WAV and measure it; refuse
    what is too long or silent."""
    with tempfile.TemporaryDirectory(prefix="voice-") as tmp:
        out = os.path.join(tmp, "out.wav")
        result = _run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-nostdin",
                "-i",
                path,
                "-vn",
                "-ac",
                "1",
                "-ar",
                str(RATE),
                "-sample_fmt",
                "s16",
                "-f",
                "wav",
                "-y",
                out,
            ]
        )
        if result.returncode != 0 or not os.path.exists(out):
            raise AudioError(_("Не удалось прочитать аудиозапись: файл повреждён."))
        with wave.open(out, "rb") as w:
            frames = w.readframes(w.getnframes())
        wav = Path(out).read_bytes()
    samples = array.array("h")
    samples.frombytes(frames[: len(frames) // 2 * 2])
    duration_ms = len(samples) * 1000 // RATE
    if duration_ms < 500:
        raise AudioError(
            _("Аудиозапись слишком короткая: нужно не меньше 0,5 секунды.")
        )
    limit = settings.VOICE_MAX_SECONDS
    if duration_ms > limit * 1000:
        raise AudioError(
            _("Аудиозапись длиннее %(n)s секунд: сократите её.") % {"n": limit}
        )
    peak = max(max(samples), -min(samples)) if samples else 0
    if peak < SILENCE_PEAK:
        raise AudioError(_("В аудиозаписи тишина: загрузите запись с голосом."))
    return Telephony(wav, duration_ms, hashlib.sha256(wav).hexdigest())


def check_upload(name: str, size: int) -> None:
    if not name.lower().endswith(EXTENSIONS):
        raise AudioError(_("Загрузите файл mp3, wav или ogg."))
    limit = settings.VOICE_MAX_UPLOAD_BYTES
    if size > limit:
        raise AudioError(
            _("Файл больше %(mb)s МБ: сожмите или сократите запись.")
            % {"mb": limit // 2**20}
        )
    if size == 0:
        raise AudioError(_("Файл пустой."))


def upload_convert(chunks, name: str, size: int) -> Telephony:
    """An uploaded file (its chunks) → telephone audio, or ``AudioError``."""
    check_upload(name, size)
    suffix = os.path.splitext(name)[1].lower()
    with tempfile.NamedTemporaryFile(suffix=suffix, prefix="voice-up-") as src:
        written = 0
        for chunk in chunks:
            written += len(chunk)
            if written > settings.VOICE_MAX_UPLOAD_BYTES:
                raise AudioError(_("Файл слишком большой."))
            src.write(chunk)
        src.flush()
        probe(src.name)
        return to_telephony(src.name)


# --- speech --------------------------------------------------------------------------


def tts_check(text: str) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise AudioError(_("Введите текст для озвучки."))
    limit = settings.VOICE_TTS_MAX_CHARS
    if len(text) > limit:
        raise AudioError(
            _("Текст для озвучки длиннее %(n)s символов (сейчас %(len)s).")
            % {"n": limit, "len": len(text)}
        )
    return text


def tts_cache_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "voice" / "tts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def tts_key(text: str, voice: str) -> str:
    return hashlib.sha256(f"{voice}\n{text}".encode()).hexdigest()


def synthesize(text: str, voice: str) -> Telephony:
    """Speak ``text`` with ``voice`` (a ``Voice.code``) into telephone audio;
    cached by voice and text (a repeated text costs a file read)."""
    text = tts_check(text)
    spec = voice_get(voice)
    cached = tts_cache_dir() / f"{tts_key(text, voice)}.wav"
    if cached.exists():
        wav = cached.read_bytes()
        with wave.open(str(cached), "rb") as w:
            duration_ms = w.getnframes() * 1000 // w.getframerate()
        return Telephony(wav, duration_ms, hashlib.sha256(wav).hexdigest())
    with tempfile.TemporaryDirectory(prefix="voice-tts-") as tmp:
        raw = os.path.join(tmp, "speech.wav")
        if spec.engine == "espeak":
            result = _run(
                ["espeak-ng", "-v", "ru", "-s", "150", "-w", raw, "--stdin"],
                data=text.encode(),
            )
        else:
            result = _run(
                ["text2wave", "-eval", "(voice_msu_ru_nsh_clunits)", "-o", raw],
                data=text.encode(),
            )
        if result.returncode != 0 or not os.path.exists(raw):
            raise AudioError(_("Не удалось озвучить текст: попробуйте другой голос."))
        audio = to_telephony(raw)
    tmp_path = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp_path.write_bytes(audio.wav)
    os.replace(tmp_path, cached)
    return audio


def store(audio: Telephony) -> str:
    """Keep a converted audio under MEDIA_ROOT (named by its digest); returns
    the relative path."""
    rel = f"voice/audio/{audio.sha256[:2]}/{audio.sha256}.wav"
    full = Path(settings.MEDIA_ROOT) / rel
    if not full.exists():
        full.parent.mkdir(parents=True, exist_ok=True)
        tmp_path = full.with_suffix(f".{os.getpid()}.tmp")
        tmp_path.write_bytes(audio.wav)
        os.replace(tmp_path, full)
    return rel


def full_path(rel: str) -> str:
    return str(Path(settings.MEDIA_ROOT) / rel)


def pcm_frames(rel: str) -> bytes:
    """The 16-bit 8 kHz samples of a stored audio (what RTP carries)."""
    with wave.open(full_path(rel), "rb") as w:
        return w.readframes(w.getnframes())
