"""Relationship kinds beyond the bookshop's: dynamic, write-only, self-referential, association objects,
view-only with a custom join condition (tables ``qgk_*``, beside the bookshop's in each test database)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table, Text, and_, insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import (
    DeclarativeBase,
    DynamicMapped,
    Mapped,
    WriteOnlyMapped,
    foreign,
    mapped_column,
    relationship,
)


class Base(AsyncAttrs, DeclarativeBase):
    pass


follow = Table(
    "qgk_follow",
    Base.metadata,
    Column("follower_id", ForeignKey("qgk_member.id"), primary_key=True),
    Column("followed_id", ForeignKey("qgk_member.id"), primary_key=True),
)


class Shelf(Base):
    __tablename__ = "qgk_shelf"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    dyn_items: DynamicMapped[Item] = relationship(order_by="Item.id")
    wo_items: WriteOnlyMapped[Item] = relationship(order_by="Item.id", overlaps="dyn_items")
    cheap_items: Mapped[list[Item]] = relationship(
        primaryjoin=lambda: and_(Shelf.id == foreign(Item.shelf_id), Item.price < 5),
        viewonly=True,
        order_by="Item.id",
    )


class Item(Base):
    __tablename__ = "qgk_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    shelf_id: Mapped[int] = mapped_column(ForeignKey("qgk_shelf.id"))
    title: Mapped[str] = mapped_column(String(50))
    price: Mapped[int] = mapped_column(default=10)
    notes: Mapped[str] = mapped_column(Text, deferred=True)


class Node(Base):
    """An adjacency list: ``parent`` (many-to-one through ``remote_side``) and ``children``."""

    __tablename__ = "qgk_node"
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("qgk_node.id"))
    name: Mapped[str] = mapped_column(String(50))
    parent: Mapped[Node | None] = relationship(back_populates="children", remote_side=[id])
    children: Mapped[list[Node]] = relationship(back_populates="parent", order_by="Node.id")


class Member(Base):
    """``follows``/``followers``: both sides of one self-referential ``secondary`` table."""

    __tablename__ = "qgk_member"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    follows: Mapped[list[Member]] = relationship(
        secondary=follow,
        primaryjoin=id == follow.c.follower_id,
        secondaryjoin=id == follow.c.followed_id,
        back_populates="followers",
    )
    followers: Mapped[list[Member]] = relationship(
        secondary=follow,
        primaryjoin=id == follow.c.followed_id,
        secondaryjoin=id == follow.c.follower_id,
        back_populates="follows",
    )
    wo_follows: WriteOnlyMapped[Member] = relationship(
        secondary=follow,
        primaryjoin=id == follow.c.follower_id,
        secondaryjoin=id == follow.c.followed_id,
        viewonly=True,
    )


class Order(Base):
    __tablename__ = "qgk_order"
    id: Mapped[int] = mapped_column(primary_key=True)
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.product_id")


class OrderLine(Base):
    """An association object between orders and products."""

    __tablename__ = "qgk_order_line"
    order_id: Mapped[int] = mapped_column(ForeignKey("qgk_order.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("qgk_product.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(default=1)
    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()


class Product(Base):
    __tablename__ = "qgk_product"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


def seed(conn: Connection) -> None:
    """Create the tables afresh: 5 shelves of 4 items, a tree, 6 members, 5 orders of 2 products each."""
    Base.metadata.drop_all(conn)
    Base.metadata.create_all(conn)
    rows = {
        Shelf: [{"id": i, "name": f"shelf {i}"} for i in range(1, 6)],
        Item: [
            {"id": i, "shelf_id": 1 + i % 5, "title": f"item {i}", "price": i % 8, "notes": f"n {i}"}
            for i in range(1, 21)
        ],
        Node: [{"id": 1, "parent_id": None, "name": "root"}]
        + [{"id": i, "parent_id": 1 + (i - 2) // 3, "name": f"node {i}"} for i in range(2, 14)],
        Member: [{"id": i, "name": f"member {i}"} for i in range(1, 7)],
        Product: [{"id": i, "name": f"product {i}"} for i in range(1, 11)],
        Order: [{"id": i} for i in range(1, 6)],
        OrderLine: [{"order_id": o, "product_id": 2 * o - k} for o in range(1, 6) for k in (0, 1)],
    }
    follows = [{"follower_id": i, "followed_id": 1 + (i + k) % 6} for i in range(1, 7) for k in (0, 1)]
    for model, values in rows.items():
        conn.execute(insert(model), values)
    conn.execute(insert(follow), follows)
