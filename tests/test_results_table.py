"""README's table of GPU results is the one course_tools.results_table makes from results/."""

from course_tools import ROOT, results_table


def test_readme_holds_the_generated_table():
    readme = (ROOT / "README.md").read_text()
    begin, end = readme.index(results_table.BEGIN), readme.index(results_table.END)
    assert readme[begin + len(results_table.BEGIN):end].strip() == results_table.table(), (
        "README's results table is stale: paste the output of python -m course_tools.results_table")


def test_every_result_is_a_gpu_run():
    import json

    reports = sorted((ROOT / "results").glob("*/report.json"))
    assert reports, "results/ holds no report"
    for path in reports:
        meta = json.loads(path.read_text())["meta"]
        assert meta["device"].startswith("GPU"), f"{path}: results/ holds GPU runs only, not {meta['device']}"
        assert meta["profile"] == "full", f"{path}: results/ holds full-profile runs only"
