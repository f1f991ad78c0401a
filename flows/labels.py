"""What the Prefect UI shows of a run: names that say which schedule fired when, and tags to filter by."""

from __future__ import annotations

from collections.abc import Callable

from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext

TAG = "leakless"  # on every flow and task run leakless makes, beside the run id where there is one


def firing_name(fallback: str) -> Callable[[], str]:
    """A `flow_run_name`: `<deployment>-<scheduled start, UTC>`, or `<fallback>-<start>` when no
    deployment runs it. The build it starts is named after its run id (`build-<run id>`)."""
    def name() -> str:
        from prefect.runtime import deployment, flow_run

        return f"{deployment.name or fallback}-{flow_run.scheduled_start_time:%Y%m%d-%H%M%S}"
    return name


def tag_flow_run(*tags: str) -> None:
    """Add `tags` to the flow run in progress: a run id is known only once its flow is running."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:  # the flow's function called as a plain function
        return
    merged = sorted({*context.flow_run.tags, *tags})
    with get_client(sync_client=True) as client:
        client.update_flow_run(context.flow_run.id, tags=merged)
    context.flow_run.tags = merged
