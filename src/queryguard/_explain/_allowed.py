"""The built-in functions a statement may call and still be explained: read-only by every database's manual.

What Django and SQLAlchemy generate (aggregates, string, number, date, JSON, array, full-text and window
functions, casts) and nothing that writes, takes a lock, sleeps, touches a sequence or reaches another
connection: ``nextval``, ``setval``, ``pg_advisory_lock``, ``GET_LOCK``, ``SLEEP``, ``dblink``, ``lo_*`` and
every user-defined or stored function are absent, so a statement that calls them is not explained.
"""

from __future__ import annotations

from typing import Final

_COMMON: Final = frozenset(
    """count sum avg min max coalesce nullif greatest least lower upper length char_length character_length
    octet_length bit_length abs round ceil ceiling floor trunc truncate sign mod power pow sqrt exp ln
    log log10 log2 pi degrees radians sin cos tan asin acos atan atan2 cot cast convert extract concat
    concat_ws substring substr trim ltrim rtrim replace reverse repeat left right lpad rpad position
    strpos instr locate md5 sha1 sha2 hex unhex ascii chr char format random rand row_number rank
    dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value stddev stddev_pop
    stddev_samp variance var_pop var_samp bit_and bit_or bit_xor json_extract json_object json_array
    json_type json_valid json_quote json_length json_keys json_contains json_contains_path json_unquote
    json_value json_array_length if ifnull iif nvl date time timestamp datetime now varchar numeric
    decimal varying character interval float binary signed unsigned integer int bigint smallint boolean
    bool""".split()  # noqa: SIM905
)
_POSTGRESQL: Final = frozenset(
    """date_trunc date_part age make_date make_time make_timestamp make_timestamptz make_interval to_char
    to_date to_timestamp to_number justify_days justify_hours justify_interval current_setting isfinite
    statement_timestamp transaction_timestamp clock_timestamp timeofday localtimestamp btrim initcap
    split_part regexp_replace regexp_match regexp_matches regexp_split_to_array starts_with translate
    quote_ident quote_literal quote_nullable string_to_array array_to_string unnest array_agg string_agg
    json_agg jsonb_agg json_object_agg jsonb_object_agg json_build_object jsonb_build_object
    json_build_array jsonb_build_array to_json to_jsonb row_to_json array_to_json json_typeof
    jsonb_typeof jsonb_array_length json_extract_path jsonb_extract_path json_extract_path_text
    jsonb_extract_path_text jsonb_set jsonb_insert jsonb_strip_nulls jsonb_path_exists jsonb_path_match
    jsonb_path_query jsonb_path_query_array jsonb_path_query_first json_each jsonb_each json_each_text
    jsonb_each_text jsonb_object_keys json_object_keys jsonb_array_elements json_array_elements
    jsonb_array_elements_text json_array_elements_text array_length array_lower array_upper
    array_position array_positions array_remove array_replace array_append array_prepend array_cat
    array_ndims array_dims cardinality generate_series generate_subscripts bool_and bool_or every
    percentile_cont percentile_disc mode corr covar_pop covar_samp regr_slope regr_intercept regr_count
    regr_r2 regr_avgx regr_avgy to_tsvector to_tsquery plainto_tsquery phraseto_tsquery
    websearch_to_tsquery ts_rank ts_rank_cd ts_headline setweight tsvector_to_array numrange int4range
    int8range daterange tsrange tstzrange lower_inc upper_inc lower_inf upper_inf isempty range_merge
    gen_random_uuid uuid_generate_v4 encode decode sha224 sha256 sha384 sha512 digest width_bucket div
    gcd lcm scale factorial cbrt text""".split()  # noqa: SIM905
)
_MYSQL: Final = frozenset(
    """date_format str_to_date from_unixtime unix_timestamp timestampdiff timestampadd date_add date_sub
    adddate subdate addtime subtime datediff timediff makedate maketime convert_tz sec_to_time
    time_to_sec to_days from_days to_seconds year month day hour minute second microsecond week weekday
    dayofweek dayofmonth dayofyear quarter yearweek monthname dayname last_day curdate curtime utc_date
    utc_time utc_timestamp sysdate group_concat elt field find_in_set insert lcase ucase mid space
    strcmp soundex regexp_replace regexp_substr regexp_instr regexp_like match against json_arrayagg
    json_objectagg json_search json_set json_insert json_replace json_remove json_merge json_merge_patch
    json_merge_preserve json_depth json_pretty json_overlaps json_table json_exists json_query crc32 oct
    conv bin uuid weight_string collation charset coercibility std""".split()  # noqa: SIM905
)
_SQLITE: Final = frozenset(
    """strftime julianday unixepoch glob like likelihood likely unlikely typeof quote printf unicode total
    group_concat string_agg zeroblob json json_array_length json_each json_tree json_group_array
    json_group_object json_insert json_set json_replace json_remove json_patch regexp""".split()  # noqa: SIM905
)

FUNCTIONS: Final = {
    "postgresql": _COMMON | _POSTGRESQL,
    "mysql": _COMMON | _MYSQL,
    "sqlite": _COMMON | _SQLITE,
}


def allowed(name: str, vendor: str) -> bool:
    """Whether calling the built-in ``name`` (lower case) leaves the database as it was, on ``vendor``."""
    if vendor == "sqlite" and name.startswith("django_"):
        return True  # the functions Django registers on its SQLite connections compute values only
    return name in FUNCTIONS.get(vendor, _COMMON)
