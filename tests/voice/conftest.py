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


def tone(path, seconds: float = 3, *, volume: float = 0.5, fmt: str = "wav"):
    """A test recording made by sox: a tone (or silence with volume 0)."""
    args = ["sox", "-n", "-r", "44100", "-c", "2", str(path)]
    if volume:
        args += ["synth", str(seconds), "sine", "440", "vol", str(volume)]
    else:
        args += ["trim", "0", str(seconds)]
    subprocess.run(args, check=True, capture_output=True)
    return path
