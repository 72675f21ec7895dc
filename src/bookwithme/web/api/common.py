"""Shapes shared by the API routers."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class ItemList(BaseModel, Generic[T]):
    items: list[T]
