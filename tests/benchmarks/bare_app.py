"""The yardstick for benchmark (b): a bare FastAPI endpoint, served the same way."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/bare")
async def bare() -> dict[str, str]:
    return {"status": "ok"}
