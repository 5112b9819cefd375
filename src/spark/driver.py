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
    if sorted(header) != sorted(listed) or len(set(header)) != len(header):
        fail("columns", header=header)
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


def mapped(spark, spec, frame, column, alias, unmatched):
    """`frame` with `alias` = the label of the column's value in the
    column's map (a broadcast join); a row whose value has no label gets
    `unmatched` (a column expression)."""
    table = spark.read.parquet(column["map"])
    key = "__key_" + alias
    table = table.select(F.col("value").alias(key), F.col("label").alias(alias))
    joined = frame.join(F.broadcast(table), frame["__value_" + alias] == table[key], "left")
    return joined.withColumn(
        alias, F.when(F.col(alias).isNull(), unmatched).otherwise(F.col(alias))
    ).drop(key)


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
    frame = frame.withColumn("__id", F.monotonically_increasing_id())
    keys, raws = [], []
    for i, column in enumerate(spec["columns"]):
        if column["role"] not in ("quasi-identifier", "sensitive"):
            continue
        name = column["name"]
        alias = "c%d" % i
        if column.get("map"):
            raw = "r%d" % i
            frame = frame.withColumn(raw, normalized(spec, name))
            frame = frame.withColumn("__value_" + alias, filled(spec, F.col(raw)))
            # A value the map lacks keeps a null label; its raw count (below)
            # lets the crate name the column and the value's shape.
            frame = mapped(spark, spec, frame, column, alias, F.lit(None).cast("string"))
            raws.append(raw)
        else:
            frame = frame.withColumn(alias, normalized(spec, name))
        keys.append(alias)
    frame = frame.select(keys + raws + ["__id"])
    frame.createOrReplaceTempView("deidentify_input")
    # Each column's own set: its raw values when it is generalized here, its
    # values otherwise (a single such column is the tuple set itself).
    generalized = ["c" + r[1:] for r in raws]
    plain = [c for c in keys if c not in generalized]
    singles = (plain if len(keys) > 1 else []) + raws
    sets = ["(" + ", ".join(keys) + ")"] + ["(%s)" % c for c in singles]
    query = (
        "SELECT %s, grouping_id() AS g, COUNT(*) AS n, MIN(__id) AS first "
        "FROM deidentify_input GROUP BY GROUPING SETS (%s)"
        % (", ".join(keys + raws), ", ".join(sets))
    )
    # Every column's values (the larger grouping ids) before the tuples,
    # each in order of first appearance: the crate reads the parts in order.
    counted = spark.sql(query).orderBy(F.col("g").desc(), F.col("first"))
    progress("counting %d rows into the frequency table" % rows)
    counted.write.mode("errorifexists").parquet(spec["output"])
    return {"rows": rows, "header": header}


def release(spark, spec):
    """Writes the release: quasi-identifiers as the labels of the crate's maps,
    the suppressed classes' quasi-identifiers as `*`, sensitive values with
    the missing policy applied, insensitive columns as read, identifiers
    dropped; to a temporary path renamed to the final one on success."""
    frame, header = read_input(spark, spec)
    aliases = {c["name"]: "c%d" % i for i, c in enumerate(spec["columns"])}
    qi_aliases = []
    for i, column in enumerate(spec["columns"]):
        name = column["name"]
        alias = "c%d" % i
        if column["role"] == "quasi-identifier":
            frame = frame.withColumn("__value_" + alias, filled(spec, normalized(spec, name)))
            message = (
                "column '%s': a value was not seen when the table was counted (the data changed)"
                % name
            )
            frame = mapped(spark, spec, frame, column, alias, F.raise_error(F.lit(message)))
            qi_aliases.append(alias)
    if spec.get("suppressed"):
        suppressed = spark.read.parquet(spec["suppressed"])
        suppressed = suppressed.select(
            [F.col(a).alias("__s_" + a) for a in qi_aliases] + [F.lit(True).alias("__suppressed")]
        )
        condition = None
        for alias in qi_aliases:
            term = F.col(alias).eqNullSafe(F.col("__s_" + alias))
            condition = term if condition is None else condition & term
        frame = frame.join(F.broadcast(suppressed), condition, "left")
        hidden = F.coalesce(F.col("__suppressed"), F.lit(False))
    else:
        hidden = F.lit(False)
    by_name = {c["name"]: c for c in spec["columns"]}
    columns = []
    for name in header:
        role = by_name[name]["role"]
        if role == "identifier":
            continue
        if role == "quasi-identifier":
            value = F.when(hidden, F.lit("*")).otherwise(F.col(aliases[name]))
        elif role == "sensitive":
            value = filled(spec, normalized(spec, name))
        else:
            value = F.col(quoted(name))
        columns.append(value.alias(name))
    out = frame.select(columns)
    temporary, final = spec["temporary"], spec["output"]
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    path = jvm.org.apache.hadoop.fs.Path(final)
    filesystem = path.getFileSystem(conf)
    if filesystem.exists(path):
        fail("exists", path=final)
    progress("writing the release to a temporary path")
    try:
        writer = out.write.mode("errorifexists")
        if spec["output_format"] == "parquet":
            writer.parquet(temporary)
        else:
            writer.option("header", "true").option("sep", spec["output_delimiter"]).option(
                "quote", '"'
            ).option("escape", '"').csv(temporary)
        if spec["output_format"] == "parquet":
            written = spark.read.parquet(temporary).count()
        else:
            written = spark.read.option("header", "true").option("sep", spec["output_delimiter"]).option(
                "multiLine", "true"
            ).csv(temporary).count()
        if written != spec["expected_rows"]:
            raise RuntimeError(
                "the release has %d rows, the counted table %d (the data changed)"
                % (written, spec["expected_rows"])
            )
        if not filesystem.rename(jvm.org.apache.hadoop.fs.Path(temporary), path):
            raise RuntimeError("could not rename the temporary output to the final path")
        progress("%d rows released to %s" % (written, final))
    except BaseException:
        filesystem.delete(jvm.org.apache.hadoop.fs.Path(temporary), True)
        raise
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
