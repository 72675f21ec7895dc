"""The yardstick for benchmark (b): a bare FastAPI endpoint, served the same way."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/bare")
async def bare() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/bare", status_code=201)
async def bare_post(body: dict[str, str]) -> dict[str, str]:
    return {"status": "ok"}
