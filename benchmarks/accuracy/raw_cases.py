"""Raw DB-API SQL (sqlite3, psycopg, PyMySQL) through ``queryguard.dbapi.instrument``: loops with bound
parameters and with literals, executemany, pages, duplicates, helpers, two connections and ``SELECT *``.

``db.sql(text)`` turns the ``?`` placeholders of ``text`` into the driver's own (``%s``)."""

from __future__ import annotations

from typing import Any

from _corpus import cases_for

case = cases_for("raw")

EVENTS = 1000
_TABLES = (
    "CREATE TABLE raw_author (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL)",
    "CREATE TABLE raw_book (id INTEGER PRIMARY KEY, title VARCHAR(100) NOT NULL, author_id INTEGER NOT NULL, "
    "price INTEGER NOT NULL)",
    "CREATE TABLE raw_event (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, kind VARCHAR(20) NOT NULL)",
    "CREATE TABLE raw_counter (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, value INTEGER NOT NULL)",
    "CREATE TABLE raw_counter_copy (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, "
    "value INTEGER NOT NULL)",
)


def seed(conn: Any, database: str) -> None:
    """Create the raw tables and their rows on a plain (not recorded) connection."""
    mark = "?" if database == "sqlite" else "%s"
    cursor = conn.cursor()
    for statement in _TABLES:
        cursor.execute(statement)
    rows = {
        "raw_author": [(i, f"author {i}") for i in range(1, 12)],
        "raw_book": [(i, f"book {i}", (i - 1) // 3 + 1 if i <= 30 else 11, 5 + i % 10) for i in range(1, 41)],
        "raw_event": [(i, i, ("click", "view", "buy")[i % 3]) for i in range(1, EVENTS + 1)],
        "raw_counter": [(i, f"counter {i}", 0) for i in range(1, 11)],
    }
    for table, values in rows.items():
        marks = ", ".join([mark] * len(values[0]))
        cursor.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
    conn.commit()


@case()
def loop_with_bound_params(db: Any) -> list[Any]:
    """A SELECT with a bound id for each book: an N+1."""
    cursor = db.cursor()
    names = []
    for author_id in range(1, 9):
        cursor.execute(db.sql("SELECT name FROM raw_author WHERE id = ?"), (author_id,))  # expect: n_plus_one
        names.append(cursor.fetchone())
    return names


@case()
def loop_of_two_with_bound_params(db: Any) -> list[Any]:
    """The same SELECT for two ids: an N+1 at two."""
    cursor = db.cursor()
    found = []
    for author_id in (3, 4):
        cursor.execute(db.sql("SELECT name FROM raw_author WHERE id = ?"), (author_id,))  # expect: n_plus_one
        found.append(cursor.fetchone())
    return found


@case()
def loop_with_literal_ids(db: Any) -> list[Any]:
    """f"... WHERE id = {i}" in a loop: one shape, no parameters, other texts: an N+1 (item 5)."""
    cursor = db.cursor()
    names = []
    for author_id in range(1, 9):
        cursor.execute(f"SELECT name FROM raw_author WHERE id = {author_id}")  # expect: n_plus_one
        names.append(cursor.fetchone())
    return names


@case()
def loop_with_literal_strings(db: Any) -> list[Any]:
    """f"... WHERE kind = '{kind}'" in a loop: an N+1 (item 5)."""
    cursor = db.cursor()
    counts = []
    for kind in ("click", "view", "buy"):
        cursor.execute(f"SELECT COUNT(id) FROM raw_event WHERE kind = '{kind}'")  # expect: n_plus_one
        counts.append(cursor.fetchone())
    return counts


@case()
def nested_loop_inner_query(db: Any) -> int:
    """A query in the inner of two loops: one N+1."""
    cursor = db.cursor()
    total = 0
    for author_id in range(1, 4):
        for price in (6, 8):
            sql = db.sql("SELECT COUNT(id) FROM raw_book WHERE author_id = ? AND price > ?")
            cursor.execute(sql, (author_id, price))  # expect: n_plus_one
            total += int(cursor.fetchone()[0])
    return total


@case()
def comprehension_with_helper(db: Any) -> list[Any]:
    """A fetch helper called from a list comprehension: an N+1 at the helper's line (item 1)."""

    def title(book_id: int) -> Any:
        cursor = db.cursor()
        cursor.execute(db.sql("SELECT title FROM raw_book WHERE id = ?"), (book_id,))  # expect: n_plus_one
        return cursor.fetchone()

    return [title(i) for i in range(1, 10)]


@case()
def helper_from_two_callers(db: Any) -> list[Any]:
    """The fetch helper called once from two different functions, for two rows: no finding (item 1)."""

    def title(book_id: int) -> Any:
        cursor = db.cursor()
        cursor.execute(db.sql("SELECT title FROM raw_book WHERE id = ?"), (book_id,))
        return cursor.fetchone()

    def header() -> Any:
        return title(1)

    def sidebar() -> Any:
        return title(2)

    return [header(), sidebar()]


@case()
def helper_from_two_lines(db: Any) -> list[Any]:
    """The fetch helper called from two lines of one function, two rows: no finding (item 1)."""

    def title(book_id: int) -> Any:
        cursor = db.cursor()
        cursor.execute(db.sql("SELECT title FROM raw_book WHERE id = ?"), (book_id,))
        return cursor.fetchone()

    first = title(5)
    second = title(6)
    return [first, second]


@case()
def one_query_with_in_list(db: Any) -> list[Any]:
    """One SELECT with an IN list of thirty ids: no finding."""
    cursor = db.cursor()
    ids = list(range(1, 31))
    cursor.execute(db.sql(f"SELECT title FROM raw_book WHERE id IN ({', '.join('?' * len(ids))})"), ids)
    return cursor.fetchall()


@case()
def join_instead_of_loop(db: Any) -> list[Any]:
    """One JOIN for books and their authors: no finding."""
    cursor = db.cursor()
    cursor.execute("SELECT b.title, a.name FROM raw_book b JOIN raw_author a ON a.id = b.author_id")
    return cursor.fetchall()


@case()
def page_loop_limit_offset(db: Any) -> int:
    """A real page loop: LIMIT 100 OFFSET k over 1,000 events until empty; no finding (item 4)."""
    cursor = db.cursor()
    seen, start = 0, 0
    while True:
        cursor.execute(db.sql("SELECT id, n FROM raw_event ORDER BY id LIMIT ? OFFSET ?"), (100, start))
        rows = cursor.fetchall()
        if not rows:
            break
        seen, start = seen + len(rows), start + 100
    return seen


@case()
def page_loop_literal_limit_offset(db: Any) -> int:
    """The same page loop with LIMIT and OFFSET formatted into the text: no finding (item 4)."""
    cursor = db.cursor()
    seen = 0
    for start in range(0, EVENTS, 250):
        cursor.execute(f"SELECT id, n FROM raw_event ORDER BY id LIMIT 250 OFFSET {start}")
        seen += len(cursor.fetchall())
    return seen


@case()
def keyset_page_loop(db: Any) -> int:
    """Keyset pagination: WHERE id > ? ORDER BY id LIMIT 200 until empty; no finding (item 4)."""
    cursor = db.cursor()
    last, seen = 0, 0
    while True:
        cursor.execute(db.sql("SELECT id, n FROM raw_event WHERE id > ? ORDER BY id LIMIT 200"), (last,))
        rows = cursor.fetchall()
        if not rows:
            break
        seen, last = seen + len(rows), rows[-1][0]
    return seen


@case()
def limit_one_per_item_in_loop(db: Any) -> list[Any]:
    """LIMIT 1 for each author: an N+1, not a page (item 4)."""
    cursor = db.cursor()
    firsts = []
    for author_id in range(1, 11):
        sql = db.sql("SELECT title FROM raw_book WHERE author_id = ? ORDER BY id LIMIT 1")
        cursor.execute(sql, (author_id,))  # expect: n_plus_one
        firsts.append(cursor.fetchone())
    return firsts


@case()
def limit_one_offset_per_item_in_loop(db: Any) -> list[Any]:
    """LIMIT 1 OFFSET 1 (the second book) for each author: an N+1, an OFFSET is no page (item 4)."""
    cursor = db.cursor()
    seconds = []
    for author_id in range(1, 11):
        sql = db.sql("SELECT title FROM raw_book WHERE author_id = ? ORDER BY id LIMIT ? OFFSET ?")
        cursor.execute(sql, (author_id, 1, 1))  # expect: n_plus_one
        seconds.append(cursor.fetchone())
    return seconds


@case()
def same_statement_twice(db: Any) -> int:
    """The same SELECT with the same parameter on two lines: a duplicate."""
    cursor = db.cursor()
    sql = db.sql("SELECT COUNT(id) FROM raw_book WHERE price > ?")
    cursor.execute(sql, (8,))  # expect: duplicate_query
    first = int(cursor.fetchone()[0])
    cursor.execute(sql, (8,))
    return first + int(cursor.fetchone()[0])


@case()
def same_literal_statement_twice(db: Any) -> int:
    """The same literal SELECT text twice: a duplicate."""
    cursor = db.cursor()
    cursor.execute("SELECT MAX(n) FROM raw_event WHERE kind = 'buy'")  # expect: duplicate_query
    first = int(cursor.fetchone()[0])
    cursor.execute("SELECT MAX(n) FROM raw_event WHERE kind = 'buy'")
    return first + int(cursor.fetchone()[0])


@case()
def tuple_and_dict_empty_params(db: Any) -> int:
    """The same statement once with () and once with {}: equal statements, a duplicate (item 6)."""
    cursor = db.cursor()
    cursor.execute("SELECT COUNT(id) FROM raw_author", ())  # expect: duplicate_query
    first = int(cursor.fetchone()[0])
    cursor.execute("SELECT COUNT(id) FROM raw_author", {})
    return first + int(cursor.fetchone()[0])


@case()
def loop_invariant_query_in_loop(db: Any) -> list[int]:
    """A lookup that does not depend on the loop, repeated in it: a duplicate."""
    cursor = db.cursor()
    out = []
    for book_id in range(1, 6):
        sql = db.sql("SELECT MAX(price) FROM raw_book WHERE author_id = ?")
        cursor.execute(sql, (11,))  # expect: duplicate_query
        out.append(int(cursor.fetchone()[0]) - book_id)
    return out


@case()
def same_statement_on_two_connections(db: Any, other: Any) -> list[Any]:
    """The same SELECT on two databases' connections: neither a duplicate nor an N+1 (item 6)."""
    found = []
    for conn in (db, other):
        cursor = conn.cursor()
        cursor.execute(db.sql("SELECT name FROM raw_author WHERE id = ?"), (1,))
        found.append(cursor.fetchone())
    return found


@case()
def insert_loop_with_bound_params(db: Any) -> None:
    """A single-row INSERT for each new row: a write loop."""
    cursor = db.cursor()
    for i in range(6):
        sql = db.sql("INSERT INTO raw_counter (id, name, value) VALUES (?, ?, ?)")
        cursor.execute(sql, (100 + i, f"new {i}", i))  # expect: write_loop


@case()
def insert_loop_of_two(db: Any) -> None:
    """Two single-row INSERTs from one line in a loop: a write loop at two (item 2)."""
    cursor = db.cursor()
    for i in (1, 2):
        sql = db.sql("INSERT INTO raw_counter (id, name, value) VALUES (?, ?, ?)")
        cursor.execute(sql, (200 + i, f"pair {i}", i))  # expect: write_loop


@case()
def update_loop_with_literals(db: Any) -> None:
    """UPDATEs with literal values, one per row: a write loop (item 5)."""
    cursor = db.cursor()
    for counter_id in range(1, 6):
        sql = f"UPDATE raw_counter SET value = {counter_id * 2} WHERE id = {counter_id}"
        cursor.execute(sql)  # expect: write_loop


@case()
def delete_loop_with_bound_params(db: Any) -> None:
    """A single-row DELETE for each id: a write loop."""
    cursor = db.cursor()
    for event_id in range(1, 5):
        cursor.execute(db.sql("DELETE FROM raw_event WHERE id = ?"), (event_id,))  # expect: write_loop


@case()
def executemany_insert(db: Any) -> None:
    """executemany() of twenty rows: one batch, no finding."""
    cursor = db.cursor()
    sql = db.sql("INSERT INTO raw_counter (id, name, value) VALUES (?, ?, ?)")
    cursor.executemany(sql, [(300 + i, f"many {i}", i) for i in range(20)])


@case()
def executemany_update(db: Any) -> None:
    """executemany() of ten UPDATEs: one batch, no finding."""
    cursor = db.cursor()
    sql = db.sql("UPDATE raw_counter SET value = ? WHERE id = ?")
    cursor.executemany(sql, [(i, i) for i in range(1, 11)])


@case()
def multi_row_insert_values(db: Any) -> None:
    """One INSERT ... VALUES (...), (...), ... of twenty rows: no finding."""
    cursor = db.cursor()
    rows = [(400 + i, f"multi {i}", i) for i in range(20)]
    marks = ", ".join(["(?, ?, ?)"] * len(rows))
    sql = db.sql(f"INSERT INTO raw_counter (id, name, value) VALUES {marks}")
    cursor.execute(sql, [v for r in rows for v in r])


@case()
def update_where_once(db: Any) -> None:
    """One UPDATE ... WHERE for many rows: no finding."""
    db.cursor().execute(db.sql("UPDATE raw_counter SET value = value + 1 WHERE id <= ?"), (10,))


@case()
def save_helper_from_two_callers(db: Any) -> None:
    """One UPDATE helper called once from two places, two rows: no finding (item 1)."""

    def touch(counter_id: int) -> None:
        db.cursor().execute(db.sql("UPDATE raw_counter SET value = value + 1 WHERE id = ?"), (counter_id,))

    def on_login() -> None:
        touch(1)

    def on_view() -> None:
        touch(2)

    on_login()
    on_view()


@case()
def select_star_by_user(db: Any) -> list[Any]:
    """SELECT * written by the user: select_star (item 7)."""
    cursor = db.cursor()
    cursor.execute("SELECT * FROM raw_author ORDER BY name")  # expect: select_star
    return cursor.fetchall()


@case()
def select_table_star_by_user(db: Any) -> list[Any]:
    """SELECT b.* with a join, written by the user: select_star (item 7)."""
    cursor = db.cursor()
    sql = "SELECT b.*, a.name FROM raw_book b JOIN raw_author a ON a.id = b.author_id"
    cursor.execute(sql)  # expect: select_star
    return cursor.fetchall()


@case()
def count_star(db: Any) -> int:
    """COUNT(*): not a select list, no finding (item 7)."""
    cursor = db.cursor()
    cursor.execute("SELECT COUNT(*) FROM raw_book")
    return int(cursor.fetchone()[0])


@case()
def exists_select_star(db: Any) -> list[Any]:
    """EXISTS (SELECT * ...): not a select list anyone reads, no finding (item 7)."""
    cursor = db.cursor()
    cursor.execute(
        "SELECT name FROM raw_author a WHERE EXISTS (SELECT * FROM raw_book b WHERE b.author_id = a.id)"
    )
    return cursor.fetchall()


@case()
def insert_select_star(db: Any) -> None:
    """INSERT INTO copy SELECT * FROM table: the rows go to a table, not to code; no finding (item 7)."""
    db.cursor().execute("INSERT INTO raw_counter_copy SELECT * FROM raw_counter")


@case(databases=("sqlite",))
def table_valued_function_star_sqlite(db: Any) -> list[Any]:
    """SELECT * FROM json_each(?): a set-returning function's columns, no finding (item 7)."""
    cursor = db.cursor()
    cursor.execute("SELECT * FROM json_each(?)", ("[1, 2, 3]",))
    return cursor.fetchall()


@case(databases=("postgresql",))
def set_returning_function_star_postgresql(db: Any) -> list[Any]:
    """SELECT * FROM generate_series(...): a set-returning function's column, no finding (item 7)."""
    cursor = db.cursor()
    cursor.execute("SELECT * FROM generate_series(1, %s)", (5,))
    return cursor.fetchall()


@case(databases=("postgresql",))
def insert_select_star_from_unnest(db: Any) -> None:
    """INSERT ... SELECT * FROM UNNEST(...), the shape of Django 5.2's bulk_create: no finding (item 7)."""
    db.cursor().execute(
        "INSERT INTO raw_counter (id, name, value) SELECT * FROM UNNEST(%s::integer[], %s::varchar[], "
        "%s::integer[])",
        ([500, 501], ["a", "b"], [1, 2]),
    )


@case(databases=("mysql",))
def json_table_star_mysql(db: Any) -> list[Any]:
    """SELECT * FROM JSON_TABLE(...): a table function's columns, no finding (item 7)."""
    cursor = db.cursor()
    cursor.execute("SELECT * FROM JSON_TABLE(%s, '$[*]' COLUMNS (v INT PATH '$')) AS t", ("[1, 2, 3]",))
    return cursor.fetchall()


@case()
def two_statements_once_each(db: Any) -> int:
    """Two different SELECTs, once each: no finding."""
    cursor = db.cursor()
    cursor.execute("SELECT COUNT(id) FROM raw_author")
    authors = int(cursor.fetchone()[0])
    cursor.execute("SELECT COUNT(id) FROM raw_book")
    return authors + int(cursor.fetchone()[0])


@case()
def same_increment_from_two_callers(db: Any) -> None:
    """One counter incremented by two callers with identical parameters: two increments, not a read asked
    twice; no finding (a write repeated is not a duplicate)."""

    def like(counter_id: int) -> None:
        db.cursor().execute(db.sql("UPDATE raw_counter SET value = value + 1 WHERE id = ?"), (counter_id,))

    def on_like_button() -> None:
        like(3)

    def on_double_tap() -> None:
        like(3)

    on_like_button()
    on_double_tap()


@case()
def same_row_inserted_from_two_lines(db: Any) -> None:
    """Two audit rows with the same values, written from two lines: two rows, not a duplicate; no finding."""
    sql = db.sql(
        "INSERT INTO raw_counter_copy (id, name, value) "
        "SELECT COALESCE(MAX(id), 0) + 1, ?, ? FROM raw_counter_copy"
    )
    cursor = db.cursor()
    cursor.execute(sql, ("login", 1))
    cursor.execute(sql, ("login", 1))
