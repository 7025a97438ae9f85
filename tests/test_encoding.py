"""How a build embeds: on the device asked for, in several processes, with progress a user can read."""

from __future__ import annotations

import numpy as np
import pytest

from cwqa.cli import progress_rate
from cwqa.config import Settings, load_settings
from cwqa.embedding import resolve_device
from cwqa.errors import ConfigError


def test_auto_device_is_the_cpu_on_a_machine_without_a_gpu():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert resolve_device("auto") == "cpu"
    assert resolve_device("cpu") == "cpu"


def test_a_device_or_worker_count_that_cannot_be_is_a_one_line_error():
    with pytest.raises(ConfigError, match="device must be one of auto, cpu, cuda, mps, not 'tpu'"):
        Settings().replace(device="tpu")
    with pytest.raises(ConfigError, match="workers must be between 1 and 64, not 0"):
        load_settings(environ={"CWQA_WORKERS": "0", "CWQA_CONFIG": "/nonexistent.toml"})


def test_progress_says_the_rate_and_the_time_left():
    assert progress_rate(400, 1000, 8.0) == "(40%, 50 passages/s, about 12 s left)"
    assert progress_rate(100, 10000, 10.0) == "(1%, 10 passages/s, about 16 min left)"
    assert progress_rate(0, 1000, 0.0) == "(0%)"


@pytest.mark.model
@pytest.mark.slow
def test_two_encoding_processes_give_the_vectors_one_gives():
    from cwqa.embedding import ParallelEncoder, get_embedder

    texts = [f"The embassy reported on the {n}th meeting of the Warsaw Pact about Berlin." * (1 + n % 3) for n in range(40)]
    single = get_embedder(Settings().model).encode(texts)
    with ParallelEncoder(Settings().model, 2) as encoder:
        double = encoder.encode(texts)
    assert double.shape == single.shape
    assert np.abs(double - single).max() < 1e-4
