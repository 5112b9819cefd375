"""The deidentify crate's Spark driver (shipped inside the crate, written to a
temporary file and run by spark-submit; see the crate's `spark` module).

    spark-submit --master URL driver.py JOB.json

JOB.json says what to do ("count" or "release"), where the data is, how
missing cells are spelt, each column's role and, for the columns this job
generalizes, a two-column Parquet table (value, label) written by the crate.
Labels are computed by the crate, never here: Spark only looks them up
(broadcast joins), groups and counts, or replaces values.

The driver prints one line `DEIDENTIFY-RESULT {json}` on stdout when it
succeeds, and `DEIDENTIFY-ERROR {json}` before exiting with status 3 when the
data does not fit the job (a column missing or unlisted, a column type it
will not read). Spark's own failures (an unreadable path, a lost executor)
end the process with Spark's exception on stderr and a nonzero status.

Only the DataFrame and SQL API is used: executors run no Python.
"""

import json
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

# Spark types whose text form is the same here and in the crate's reader.
EXACT_TYPES = (
    T.StringType,
    T.ByteType,
    T.ShortType,
    T.IntegerType,
    T.LongType,
    T.DecimalType,
    T.DateType,
    T.BooleanType,
)


# The prefix of every column the driver adds.
PREFIX = "__deid_"


def alias(kind, i):
    """The driver's name for column i's kind of value: c (the value or label
    in tuples), r (a generalized column's raw value), v (the value looked up)."""
    return "%s%s%d" % (PREFIX, kind, i)


def progress(text):
    """A line of progress for the crate to pass on."""
    print("DEIDENTIFY-PROGRESS " + text, flush=True)


def fail(reason, **details):
    """Reports a data error the crate turns into its own error, and stops."""
    details["reason"] = reason
    print("DEIDENTIFY-ERROR " + json.dumps(details), flush=True)
    sys.exit(3)


def read_input(spark, spec):
    """The input as a DataFrame of text columns (nulls for empty cells)."""
    source = spec["input"]
    if source["format"] == "parquet":
        frame = spark.read.parquet(source["path"])
    else:
        frame = (
            spark.read.option("header", "true")
            .option("sep", source["delimiter"])
            .option("quote", '"')
            # RFC 4180: a quote inside a quoted field is doubled.
            .option("escape", '"')
            # A malformed record stops the job; it is never dropped or padded.
            .option("mode", "FAILFAST")
            .option("inferSchema", "false")
            .option("multiLine", "true" if source.get("multiline") else "false")
            .option("encoding", "UTF-8")
            .csv(source["path"])
        )
    header = frame.columns
    listed = [c["name"] for c in spec["columns"]]
    if sorted(header) != sorted(listed):
        fail("columns", header=header)
    for name in header:
        # The driver's own columns start with the prefix (Spark resolves
        # names without regard to case).
        if name.lower().startswith(PREFIX):
            fail("reserved", column=name)
    for field in frame.schema.fields:
        if not isinstance(field.dataType, EXACT_TYPES):
            fail("type", column=field.name, type=field.dataType.simpleString())
    return frame.select([F.col(quoted(c)).cast("string").alias(c) for c in header]), header


def quoted(name):
    """A column name as Spark SQL reads it (backticks doubled inside)."""
    return "`" + name.replace("`", "``") + "`"


def normalized(spec, name):
    """The cell with the ruleset's missing markers (and empty cells) as null."""
    column = F.col(quoted(name))
    markers = spec["missing_values"]
    if markers:
        return F.when(column.isin(markers), F.lit(None).cast("string")).otherwise(column)
    return column


def filled(spec, expression):
    """A normalized cell with null as the missing label under the `category`
    policy (under `error` the count job has checked there are none)."""
    if spec["missing_policy"] == "category":
        return F.coalesce(expression, F.lit(spec["missing_label"]))
    return expression


def mapped(spark, frame, table_path, key, target, unmatched):
    """`frame` with column `target` = the label of column `key` in the
    two-column table (value, label) at `table_path` (a broadcast join); a row
    whose value has no label gets `unmatched` (a column expression)."""
    table = spark.read.parquet(table_path)
    joined_key = PREFIX + "key_" + target
    table = table.select(F.col("value").alias(joined_key), F.col("label").alias(target))
    joined = frame.join(F.broadcast(table), F.col(key) == F.col(joined_key), "left")
    return joined.withColumn(
        target, F.when(F.col(target).isNull(), unmatched).otherwise(F.col(target))
    ).drop(joined_key)


def count(spark, spec):
    """Counts, in one pass over the data (GROUPING SETS): the frequency
    table (one row per distinct tuple of the quasi-identifiers, at their
    map's level or raw, and the sensitive values), each encoded column's
    distinct values, and each generalized column's raw values, every row
    with its count and the position of its first row (by
    monotonically_increasing_id, which follows the file's order), so that
    the crate numbers values and tuples in order of first appearance as it
    does reading the file itself."""
    frame, header = read_input(spark, spec)
    progress("counting the rows of %s" % spec["input"]["path"])
    rows = frame.count()
    first_id = PREFIX + "id"
    frame = frame.withColumn(first_id, F.monotonically_increasing_id())
    keys, raws = [], []
    for i, column in enumerate(spec["columns"]):
        if column["role"] not in ("quasi-identifier", "sensitive"):
            continue
        name = column["name"]
        key = alias("c", i)
        if column.get("map"):
            raw = alias("r", i)
            frame = frame.withColumn(raw, normalized(spec, name))
            frame = frame.withColumn(alias("v", i), filled(spec, F.col(raw)))
            # A value the map lacks keeps a null label; its raw count (below)
            # lets the crate name the column and the value's shape.
            frame = mapped(spark, frame, column["map"], alias("v", i), key, F.lit(None).cast("string"))
            raws.append(raw)
        else:
            frame = frame.withColumn(key, normalized(spec, name))
        keys.append(key)
    frame = frame.select(keys + raws + [first_id])
    frame.createOrReplaceTempView("deidentify_input")
    # Each column's own set: its raw values when it is generalized here, its
    # values otherwise (a single such column is the tuple set itself).
    generalized = [PREFIX + "c" + r[len(PREFIX) + 1 :] for r in raws]
    plain = [c for c in keys if c not in generalized]
    singles = (plain if len(keys) > 1 else []) + raws
    sets = ["(" + ", ".join(keys) + ")"] + ["(%s)" % c for c in singles]
    query = (
        "SELECT %s, grouping_id() AS g, COUNT(*) AS n, MIN(%s) AS first "
        "FROM deidentify_input GROUP BY GROUPING SETS (%s)"
        % (", ".join(keys + raws), first_id, ", ".join(sets))
    )
    # Every column's values (the larger grouping ids) before the tuples,
    # each in order of first appearance: the crate reads the parts in order.
    counted = spark.sql(query).orderBy(F.col("g").desc(), F.col("first"))
    progress("counting %d rows into the frequency table" % rows)
    counted.write.mode("errorifexists").parquet(spec["output"])
    return {"rows": rows, "header": header}


def release(spark, spec):
    """Writes the release to a temporary path (the crate renames it): the
    quasi-identifiers as the labels of the crate's maps, those of suppressed
    classes as `*`, sensitive values with the missing policy applied,
    insensitive columns as read, identifiers dropped. A value the maps lack,
    a row in no counted class, or a row count other than the counted one
    fails the job (the data changed since counting)."""
    frame, header = read_input(spark, spec)
    changed = "(the data changed since it was counted)"
    qi = []
    for i, column in enumerate(spec["columns"]):
        name = column["name"]
        if column["role"] not in ("quasi-identifier", "sensitive"):
            continue
        frame = frame.withColumn(alias("v", i), filled(spec, normalized(spec, name)))
        message = "DEIDENTIFY-CHECK column '%s': a value that was not counted %s" % (name, changed)
        frame = mapped(spark, frame, column["map"], alias("v", i), alias("c", i), F.raise_error(F.lit(message)))
        if column["role"] == "quasi-identifier":
            qi.append(alias("c", i))
    # Every counted class with whether it is suppressed: a row must be in one.
    classes = spark.read.parquet(spec["classes"])
    classes = classes.select(
        [F.col(a).alias(PREFIX + "k" + a) for a in qi]
        + [F.col("suppressed").cast("boolean").alias(PREFIX + "suppressed")]
    )
    condition = None
    for a in qi:
        term = F.col(a) == F.col(PREFIX + "k" + a)
        condition = term if condition is None else condition & term
    frame = frame.join(classes, condition, "left")
    hidden = F.col(PREFIX + "suppressed")
    unknown = F.raise_error(F.lit("DEIDENTIFY-CHECK a row is in no class of the counted table %s" % changed))
    hidden = F.when(hidden.isNull(), unknown).otherwise(hidden)
    by_name = {c["name"]: (i, c) for i, c in enumerate(spec["columns"])}
    columns = []
    for name in header:
        i, column = by_name[name]
        role = column["role"]
        if role == "identifier":
            continue
        if role == "quasi-identifier":
            value = F.when(hidden, F.lit("*")).otherwise(F.col(alias("c", i)))
        elif role == "sensitive":
            value = F.col(alias("c", i))
        else:
            value = F.col(quoted(name))
        columns.append(value.alias(name))
    out = frame.select(columns)
    temporary = spec["temporary"]
    progress("writing the release to a temporary path")
    csv_options = {
        "header": "true",
        "sep": spec["output_delimiter"],
        "quote": '"',
        "escape": '"',
        # Values are written as they are: no spaces trimmed.
        "ignoreLeadingWhiteSpace": "false",
        "ignoreTrailingWhiteSpace": "false",
    }
    if spec["output_format"] == "parquet":
        out.write.mode("errorifexists").parquet(temporary)
        written = spark.read.parquet(temporary).count()
    else:
        out.write.mode("errorifexists").options(**csv_options).csv(temporary)
        written = spark.read.options(**csv_options).option("multiLine", "true").csv(temporary).count()
    if written != spec["expected_rows"]:
        raise RuntimeError(
            "the release has %d rows, the counted table %d %s" % (written, spec["expected_rows"], changed)
        )
    progress("%d rows written; the crate names the release" % written)
    return {"rows": written, "header": header}


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    spark = SparkSession.builder.appName("deidentify " + spec["action"]).getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    try:
        if spec["action"] == "count":
            result = count(spark, spec)
        elif spec["action"] == "release":
            result = release(spark, spec)
        else:
            fail("action", action=spec["action"])
        print("DEIDENTIFY-RESULT " + json.dumps(result), flush=True)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
