"""Shapes shared by the tests of the geographic outputs (real streets of the demo site)."""

CLOSURE = [[4.4745, 52.1692], [4.47, 52.17], [4.465, 52.1707]]
DIVERSION = [[4.4745, 52.1692], [4.4741, 52.1741], [4.4647, 52.175], [4.465, 52.1707]]
WORKS_AREA = [[[4.4662, 52.1668], [4.469, 52.1666], [4.4692, 52.1688], [4.4664, 52.1691], [4.4662, 52.1668]]]


def line(coordinates, role):
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": coordinates},
        "properties": {"role": role},
    }


CLOSURE_WITH_DIVERSION = {
    "type": "FeatureCollection",
    "features": [line(CLOSURE, "closure"), line(DIVERSION, "diversion")],
}
