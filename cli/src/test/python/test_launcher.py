"""Behaviour of the ./farm launcher script itself: JDK discovery and missing-package advice."""

import os
import shutil
import subprocess

import pytest

FARM_HOME = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
FARM = os.path.join(FARM_HOME, "farm")


def run_farm(args, env_extra=None, prefix=()):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": os.environ.get("HOME", "/root")}
    env.update(env_extra or {})
    return subprocess.run([*prefix, FARM, *args], env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is installed by ./farm")
def test_without_any_jdk_21_it_fails_naming_what_to_install():
    # Hide every JDK on the machine; the launcher must say what to install, not crash.
    r = run_farm(["--version"], prefix=("bwrap", "--dev-bind", "/", "/", "--tmpfs", "/usr/lib/jvm"))
    assert r.returncode == 1
    assert "no JDK 21 or newer found" in r.stderr
    assert "openjdk-21-jdk" in r.stderr


def test_an_old_java_home_is_skipped_for_a_newer_jdk():
    old = [d for d in ("/usr/lib/jvm/java-17-openjdk-amd64",) if os.path.isdir(d)]
    if not old:
        pytest.skip("no JDK 17 on this machine")
    r = run_farm(["--version"], {"JAVA_HOME": old[0]})
    assert r.returncode == 0, r.stderr
    version = int(r.stdout.split("Java ")[1].split(".")[0].split("+")[0])
    assert version >= 21


def test_missing_python_packages_print_the_exact_install_command(tmp_path):
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root to drop to an unprivileged user")
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    tmp_path.chmod(0o755)
    r = run_farm(["run", "x.yaml"], {"ROLLOUTFARM_PYTHON": str(fake)},
                 prefix=("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"))
    assert r.returncode == 1
    assert "sudo apt-get install" in r.stderr
    assert "python3-torch" in r.stderr and "python3-grpcio" in r.stderr
