"""What a whole run leaves in the work folder is its owner's only."""

from __future__ import annotations

import stat

STUDY = "s"


def test_what_a_run_keeps_in_the_work_folder_is_the_owners_only(run_cli, workdir):
    assert run_cli("--study-name", STUDY).exit_code == 0
    mlruns = workdir / "mlruns"
    modes = {p.relative_to(mlruns).as_posix(): stat.S_IMODE(p.stat().st_mode)
             for p in [mlruns, *mlruns.rglob("*")] if p.is_dir() or p.name.startswith("optuna.db")}
    assert modes[f"models/{STUDY}"] == modes["oof"] == modes["locks"] == 0o700, modes
    assert {m & 0o077 for m in modes.values()} == {0}, modes
