"""The dbt project on a local SparkSession: the scale-out path of docs/scaling.md.

``python -m orchestration.spark build`` opens the SparkSession the dbt ``spark`` target uses, registers
each bronze Delta table as a view over exactly the Parquet files its Delta log lists (the Delta
connector for Spark is a jar that cannot be downloaded here), then runs dbt in the same process.
"""
