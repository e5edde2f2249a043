"""The `creditflow` command (names fixed by DESIGN.md "CLI")."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from creditflow.config import get_settings

app = typer.Typer(help="creditflow: NLP-assisted credit approval on Temporal.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
model_app = typer.Typer(help="Scorecard model: train and evaluate.", no_args_is_help=True)
ledger_app = typer.Typer(help="Evidence log: verify and prove.", no_args_is_help=True)
policy_app = typer.Typer(help="Credit policy: what-if simulation.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)
report_app = typer.Typer(help="Reports for risk managers.", no_args_is_help=True)
app.add_typer(model_app, name="model")
app.add_typer(ledger_app, name="ledger")
app.add_typer(policy_app, name="policy")
app.add_typer(db_app, name="db")
app.add_typer(report_app, name="report")
err = Console(stderr=True)

ROLES = ("applicant", "officer", "senior_officer", "admin")


def _fail(message: str, hint: str | None = None, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {message}")
    if hint:
        err.print(f"[dim]{hint}[/dim]")
    raise typer.Exit(code)


@app.command()
def up(no_demo: bool = typer.Option(False, "--no-demo", help="Do not seed demo applications.")) -> None:
    """Start Temporal dev server, NLP service, worker and API; seed demo data; Ctrl-C stops all."""
    from creditflow.up import run_stack

    raise typer.Exit(run_stack(get_settings(), demo=not no_demo))


@app.command()
def worker() -> None:
    """Run the Temporal worker (task queue credit-approval)."""
    from creditflow.logs import configure_logging
    from creditflow.worker import run_worker

    configure_logging("worker")
    asyncio.run(run_worker(get_settings()))


@app.command()
def api(host: Optional[str] = None, port: Optional[int] = None) -> None:
    """Run the HTTP API and officer console."""
    import uvicorn

    from creditflow.api.app import create_app
    from creditflow.logs import configure_logging

    settings = get_settings()
    configure_logging("api")
    from creditflow.store.migrate import upgrade

    upgrade(settings)
    uvicorn.run(create_app(settings), host=host or settings.api_host, port=port or settings.api_port,
                log_level="warning", access_log=False, log_config=None)


@app.command()
def nlp(host: Optional[str] = None, port: Optional[int] = None) -> None:
    """Run the NLP service (POST /v1/analyze)."""
    import uvicorn

    from creditflow.logs import configure_logging
    from creditflow.nlp.service import create_app

    settings = get_settings()
    configure_logging("nlp")
    uvicorn.run(create_app(), host=host or settings.nlp_host, port=port or settings.nlp_port,
                log_level="warning", access_log=False, log_config=None)


@app.command()
def token(role: str = typer.Option(..., "--role", help="applicant | officer | senior_officer | admin"),
          sub: str = typer.Option(..., "--sub", help="subject (user id)"),
          ttl: Optional[int] = typer.Option(None, "--ttl", help="lifetime in seconds")) -> None:
    """Print a signed dev JWT (only the token, on stdout)."""
    if role not in ROLES:
        _fail(f"unknown role {role!r}", f"choose one of: {', '.join(ROLES)}")
    if not sub.strip():
        _fail("--sub must not be empty")
    from creditflow.security.tokens import TokenService

    typer.echo(TokenService(get_settings()).issue(sub, role, ttl))  # type: ignore[arg-type]


@app.command()
def analyze(file: str = typer.Argument(..., help="a text/PDF/image file, or - for stdin"),
            kind: str = typer.Option("auto", help="document | note | auto")) -> None:
    """Analyse a document or note with the NLP pipeline and print the JSON."""
    if kind not in ("document", "note", "auto"):
        _fail(f"unknown kind {kind!r}", "use document, note or auto")
    if file == "-":
        text = sys.stdin.read()
    else:
        path = Path(file)
        if not path.is_file():
            _fail(f"no such file: {file}", "give a path to a .txt, .pdf, .png or .jpg file, or - for stdin")
        data = path.read_bytes()
        from creditflow.nlp.extract import extract_text, sniff_media_type

        media = sniff_media_type(data) or "text/plain"
        try:
            text = extract_text(data, media).text
        except Exception as exc:
            _fail(f"could not read {file}: {exc}")
    from creditflow.nlp import TextTooLarge, analyze as run

    try:
        result = run(text, kind)
    except TextTooLarge as exc:
        _fail(str(exc), "split the text or raise CREDITFLOW_MAX_NLP_CHARS")
    typer.echo(result.model_dump_json(indent=2))


@model_app.command("evaluate")
def model_evaluate(as_json: bool = typer.Option(False, "--json", help="print JSON only"),
                   folds: int = typer.Option(5, min=2, max=20)) -> None:
    """Cross-validate the shipped scorecard's training pipeline."""
    from creditflow.decision.train import evaluate_cv

    if as_json:
        result = evaluate_cv(folds=folds)
        typer.echo(json.dumps(result))
        return
    with Console().status("cross-validating the scorecard pipeline..."):
        result = evaluate_cv(folds=folds)
    Console().print_json(json.dumps(result))


@model_app.command("train")
def model_train(seed: int = 42,
                ablation: bool = typer.Option(False, "--ablation",
                                              help="also re-run the feature ablation for the card (minutes)")) -> None:
    """Rebuild models/scorecard/points.json and its model card (reproducible)."""
    from creditflow.decision.train import train

    with Console().status("training scorecard..."):
        report = train(seed=seed, ablation=ablation)
    Console().print(report)


@ledger_app.command("verify")
def ledger_verify() -> None:
    """Recompute every hash, tree and signed head; exit 0 only if the whole log verifies."""
    from creditflow.ledger.verify import verify_log
    from creditflow.store.db import Database

    settings = get_settings()
    db = Database(settings.db_url)
    report = verify_log(db, settings)
    if report.ok:
        Console().print(f"[green]ok[/green]: {report.checked} records verified")
        return
    err.print(f"[red]FAILED[/red]: first bad record seq={report.first_bad_seq}: {report.problem}")
    raise typer.Exit(1)


@ledger_app.command("prove")
def ledger_prove(application_id: str) -> None:
    """Print an application's evidence records with inclusion proofs (JSON)."""
    from creditflow.ledger.log import EvidenceLog
    from creditflow.store.db import Database

    settings = get_settings()
    log = EvidenceLog(Database(settings.db_url), settings)
    bundle = log.evidence_bundle(application_id)
    if not bundle.get("records"):
        _fail(f"no evidence records for application {application_id!r}", code=1)
    typer.echo(json.dumps(bundle, indent=2, default=str))


@ledger_app.command("witness")
def ledger_witness(
    trust_log: list[Path] = typer.Option(..., "--trust-log", exists=True, dir_okay=False,
                                         help="PEM public key of a log this witness follows (repeatable)"),
    state_dir: Path = typer.Option(Path("var/witness"), "--state-dir", help="the witness's own key and state"),
    host: str = "127.0.0.1", port: int = 8090,
) -> None:
    """Run a witness that cosigns tree heads only when they extend the last head it saw."""
    import uvicorn

    from creditflow.ledger.keys import load_public_key_pem
    from creditflow.ledger.witness import Witness, create_witness_app

    witness = Witness(state_dir, [load_public_key_pem(p.read_bytes()) for p in trust_log])
    err.print(f"witness key id {witness.key_id} on http://{host}:{port}")
    uvicorn.run(create_witness_app(witness), host=host, port=port, log_level="warning", log_config=None)


@ledger_app.command("publish")
def ledger_publish(witness: str = typer.Option(..., "--witness", help="witness base URL")) -> None:
    """Send the latest signed tree head (with a consistency proof) to a witness and store its cosignature."""
    from creditflow.ledger.log import EvidenceLog
    from creditflow.ledger.witness import WitnessConflict, WitnessRefused, http_witness
    from creditflow.store.db import Database

    settings = get_settings()
    log = EvidenceLog(Database(settings.db_url), settings)
    try:
        cosig = log.cosign_latest(http_witness(witness))
    except (WitnessConflict, WitnessRefused) as exc:
        _fail(f"the witness refused the head: {exc}", "the log may have been rewritten; run `creditflow ledger "
              "verify` and compare with the witness's last head", code=1)
    except ValueError as exc:
        _fail(str(exc), code=1)
    typer.echo(cosig.model_dump_json(indent=2))


@policy_app.command("simulate")
def policy_simulate(policy: Path = typer.Option(..., "--policy", exists=True, dir_okay=False),
                    as_json: bool = typer.Option(False, "--json")) -> None:
    """Re-decide every stored application under a candidate policy; compare with what was decided."""
    from creditflow.decision.contract import Decision, DecisionInput
    from creditflow.decision.simulate import simulate
    from creditflow.store import repo
    from creditflow.store.db import Database

    settings = get_settings()
    db = Database(settings.db_url)
    with db.session() as s:
        rows = [(DecisionInput.model_validate(r.inputs), Decision.model_validate(r.payload))
                for r in repo.decisions_for(s) if r.kind == "auto" and r.inputs]
    report = simulate(rows, policy)
    out = report.model_dump(mode="json") if hasattr(report, "model_dump") else report
    if as_json:
        typer.echo(json.dumps(out, indent=2, default=str))
    else:
        Console().print_json(json.dumps(out, default=str))


@report_app.command("overrides")
def report_overrides(as_json: bool = typer.Option(False, "--json")) -> None:
    """Officer decisions that went against the automatic recommendation, by officer and reason."""
    from rich.table import Table

    from creditflow.reports.overrides import override_report
    from creditflow.store.db import Database

    report = override_report(Database(get_settings().db_url))
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    console = Console()
    console.print(f"officer decisions: {report['officer_decisions']}  overrides: {report['overrides']} "
                  f"({report['override_rate']:.1%})")
    table = Table("application", "officer", "recommended", "action", "reason codes")
    for item in report["items"]:
        table.add_row(item["application_id"], item["officer"], str(item["recommended"]), item["action"],
                      ", ".join(item["reason_codes"]))
    console.print(table)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply Alembic migrations to CREDITFLOW_DATABASE_URL (or the SQLite default)."""
    from creditflow.store.migrate import upgrade

    upgrade(get_settings())
    Console().print("[green]database is at the latest revision[/green]")


@app.command()
def seed() -> None:
    """Seed demo applications into a running stack (as `up` does)."""
    from creditflow.demo import seed_demo

    for line in asyncio.run(seed_demo(get_settings())):
        Console().print(line)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
