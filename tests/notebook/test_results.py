"""Notebook objects as tool results: DataFrames, figures, images, numpy values, and anything else."""

from __future__ import annotations

import base64
import io
import os
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from nbmcp.tools import Tool
from nbmcp.tools.content import to_content

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure


def result_of(value: Any) -> dict[str, Any]:
    def tool() -> Any:
        return value

    return Tool.from_function(tool).to_result(value, "2025-11-25")


def png_size(block: dict[str, Any]) -> tuple[int, int]:
    assert block["type"] == "image" and block["mimeType"] == "image/png"
    size: tuple[int, int] = Image.open(io.BytesIO(base64.b64decode(block["data"]))).size
    return size


def test_a_dataframe_is_rows_plus_a_readable_table() -> None:
    frame = pd.DataFrame(
        {"city": ["Oslo", "Lima"], "temp": [3.5, 19.0], "when": pd.to_datetime(["2024-01-01"] * 2)}
    )
    result = result_of(frame)
    assert result["structuredContent"] == {
        "result": [
            {"city": "Oslo", "temp": 3.5, "when": "2024-01-01T00:00:00.000"},
            {"city": "Lima", "temp": 19.0, "when": "2024-01-01T00:00:00.000"},
        ]
    }
    table = result["content"][0]["text"]
    assert table.splitlines()[0].split() == ["city", "temp", "when"] and "Oslo" in table


def test_a_grouped_dataframe_keeps_its_index_as_columns_and_a_series_maps_index_to_value() -> None:
    frame = pd.DataFrame({"city": ["a", "b", "a"], "sales": [1, 2, 3]})
    grouped = frame.groupby("city")[["sales"]].sum()
    assert result_of(grouped)["structuredContent"] == {
        "result": [{"city": "a", "sales": 4}, {"city": "b", "sales": 2}]
    }
    series = frame.groupby("city")["sales"].sum()
    shown = result_of(series)
    assert shown["structuredContent"] == {"a": 4, "b": 2}
    assert "a    4" in shown["content"][0]["text"]
    assert result_of(pd.Series([1, 2]))["structuredContent"] == {"result": [1, 2]}


def test_numpy_scalars_and_arrays_are_json() -> None:
    assert result_of(np.int64(7))["structuredContent"] == {"result": 7}
    assert result_of(np.float32(1.5))["structuredContent"] == {"result": 1.5}
    assert result_of(np.arange(6).reshape(2, 3))["structuredContent"] == {"result": [[0, 1, 2], [3, 4, 5]]}
    assert result_of({"mean": np.float64(2.5), "ok": np.bool_(True)})["structuredContent"] == {
        "mean": 2.5,
        "ok": True,
    }


def test_figures_axes_and_pil_images_are_image_content() -> None:
    fig = Figure(figsize=(2, 1), dpi=50)
    fig.subplots().plot([1, 2, 3])
    assert png_size(result_of(fig)["content"][0])[0] > 0
    before = len(plt.get_fignums())
    _, ax = plt.subplots()
    ax.plot([3, 2, 1])
    assert png_size(result_of(ax)["content"][0])[0] > 0  # df.plot() returns axes
    assert len(plt.get_fignums()) == before  # the pyplot figure is closed once rendered
    assert png_size(result_of(Image.new("RGB", (7, 5), "red"))["content"][0]) == (7, 5)


def test_anything_else_is_its_repr_with_a_note() -> None:
    class Gadget:
        def __repr__(self) -> str:
            return "<Gadget 42>"

    result = result_of(Gadget())
    assert "structuredContent" not in result
    text = result["content"][0]["text"]
    assert text.startswith("<Gadget 42>") and "has no JSON form" in text
    _, data = to_content({"thing": Gadget()})
    assert data == {"thing": "<Gadget 42>"}


@pytest.mark.parametrize("value", ["plain text", None, {"a": 1}, [1, 2]])
def test_ordinary_values_are_unchanged(value: Any) -> None:
    blocks, _ = to_content(value)
    assert "has no JSON form" not in str(blocks)
