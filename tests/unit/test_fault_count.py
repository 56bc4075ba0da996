"""README.md states how many fault cases the suite has; the number must be the one pytest collects."""

from __future__ import annotations

from tests import fault_count


def test_readme_states_the_collected_number_of_fault_cases():
    stated = fault_count.stated()
    assert stated is not None, "README.md lost its 'has **N** cases' sentence about the fault suite"
    count = fault_count.collected()
    assert stated == count, (f"README.md says {stated} fault cases, pytest collects {count}: "
                             "run `python tests/fault_count.py --update`")
