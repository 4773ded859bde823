"""Column-wise string kernels: whole Arrow string columns, no Python object per row.

- ``vector``: ``Node`` trees (constants, picks, ``###-??`` patterns, concatenations, choices,
  formatted integers) that make a string column at once with numpy and pyarrow, enumerable
  where their value space can be counted. The Faker compiler and the regex sampler build them.
"""
