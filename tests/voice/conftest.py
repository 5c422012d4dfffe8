import subprocess

import pytest

from cabinet.moderation import decide
from voice import services


@pytest.fixture(autouse=True)
def _voice_media(settings, tmp_path_factory):
    """Audio files of a test go to its own media folder (the speech cache is
    shared within a worker: one synthesis per text and voice)."""
    settings.MEDIA_ROOT = str(tmp_path_factory.getbasetemp() / "media")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(db):
    from cabinet.models import User

    return User.objects.create_superuser(email="moderator@example.com", password="x")


@pytest.fixture
def speech(user):
    """A synthesised audio of the user's account, not yet moderated."""
    return services.audio_synthesize(
        account=user.account,
        text="Здравствуйте! Это голосовая рассылка. Нажмите девять, чтобы отписаться.",
        voice="espeak:ru",
    )


@pytest.fixture
def approved(speech, staff):
    return decide(item=speech, approve=True, staff_user=staff).item


def tone(path, seconds: float = 3, *, volume: float = 0.5):
    """A test recording made by ffmpeg (its format from the file name; any
    other name gets WAV): a 440 Hz tone, or silence with volume 0."""
    source = (
        f"sine=frequency=440:sample_rate=44100:duration={seconds}"
        if volume
        else f"anullsrc=r=44100:cl=stereo:d={seconds}"
    )
    fmt = {".mp3": "mp3", ".ogg": "ogg"}.get(path.suffix, "wav")
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            source,
            "-ac",
            "2",
            "-filter:a",
            f"volume={volume or 1}",
            "-f",
            fmt,
            "-y",
            str(path),
        ],
        check=True,
        capture_output=True,
    )
    return path
