"""The timeline endpoint's windows: a time range, a resolution, and the compact q8 encoding."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from rest_framework.test import APIClient

from accounts.models import User
from analysis.models import AnalysisJob
from analysis.services import analysis_job_create, analysis_job_run
from engine.timeline_view import q8_encode, timeline_window
from tests.analysis.conftest import give_credits
from tests.analysis.factories import MediaFileFactory

pytestmark = pytest.mark.django_db


def _succeeded(user: User) -> AnalysisJob:
    give_credits(user)
    job = analysis_job_create(
        user=user, media_public_id=MediaFileFactory.create(owner=user).public_id, features=None
    )
    analysis_job_run(job_id=job.pk, worker_host="worker-a")
    job.refresh_from_db()
    assert job.status == "succeeded"
    return job


def _q8_values(encoded: dict[str, Any]) -> npt.NDArray[np.float64]:
    codes = np.frombuffer(base64.b64decode(encoded["q"]), dtype=np.uint8).astype(float)
    values = encoded["lo"] + codes / 254 * (encoded["hi"] - encoded["lo"])
    values[codes == 255] = np.nan
    shaped: npt.NDArray[np.float64] = values.reshape(encoded.get("shape", [-1]))
    return shaped


def test_a_window_holds_its_range_at_the_resolution_asked(api_client: APIClient, user: User):
    job = _succeeded(user)
    whole = api_client.get(f"/api/v1/analyses/{job.public_id}/timeline/").json()

    response = api_client.get(
        f"/api/v1/analyses/{job.public_id}/timeline/?start=1&end=3&resolution=10",
        HTTP_ACCEPT_ENCODING="gzip",
    )

    assert response.status_code == 200
    window = json.loads(gzip.decompress(response.content))
    assert (window["start"], window["end"]) == (1.0, 3.0)
    assert len(window["timeline"]["rms"]) == 20
    assert len(window["waveform"]["min"]) == 20
    assert len(window["timeline"]["chroma"][0]) == 12
    # Peaks survive the reduction: the window's loudest bucket is the range's loudest frame.
    rate = whole["timeline"]["frame_rate"]
    frames = whole["timeline"]["rms"][int(rate) : int(3 * rate) + 1]
    assert max(window["timeline"]["rms"]) == pytest.approx(max(frames), rel=1e-3)
    assert min(window["waveform"]["min"]) == pytest.approx(
        min(whole["waveform"]["min"][100:300]), abs=1e-4
    )


def test_the_q8_encoding_decodes_to_the_json_window(api_client: APIClient, user: User):
    job = _succeeded(user)
    url = f"/api/v1/analyses/{job.public_id}/timeline/?resolution=5"

    plain = api_client.get(url).json()
    compact = api_client.get(url + "&encoding=q8").json()

    assert compact["encoding"] == "q8"
    rms = _q8_values(compact["timeline"]["rms"])
    assert rms == pytest.approx(plain["timeline"]["rms"], abs=max(plain["timeline"]["rms"]) / 254)
    chroma = _q8_values(compact["timeline"]["chroma"])
    assert chroma.shape == (len(plain["timeline"]["chroma"]), 12)
    assert compact["timeline"]["bands"]["db"]["hi"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    "query", ["start=-1", "end=abc", "resolution=0", "encoding=xml", "start=nan"]
)
def test_bad_window_parameters_are_400(api_client: APIClient, user: User, query: str):
    job = _succeeded(user)
    assert api_client.get(f"/api/v1/analyses/{job.public_id}/timeline/?{query}").status_code == 400


def test_no_window_is_larger_than_the_point_limit():
    rate = 100
    arrays = {
        "waveform": {"points_per_second": rate, "min": [-0.5] * 360_000, "max": [0.5] * 360_000}
    }

    window = timeline_window(arrays, start=0, end=None, resolution=1e9, duration=3600.0)

    assert len(window["waveform"]["min"]) <= 360_000
    encoded = q8_encode(window)
    assert _q8_values(encoded["waveform"]["max"])[0] == pytest.approx(0.5)


def test_null_values_stay_null_in_both_encodings():
    arrays = {"timeline": {"frame_rate": 10.0, "spectral_centroid": [None] * 10 + [100.0] * 10}}

    window = timeline_window(arrays, start=0, end=2, resolution=2, duration=2.0)

    centroid = window["timeline"]["spectral_centroid"]
    assert np.isnan(centroid[0])
    assert centroid[-1] == pytest.approx(100.0)
    assert np.isnan(_q8_values(q8_encode(window)["timeline"]["spectral_centroid"])[0])
