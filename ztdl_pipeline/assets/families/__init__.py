"""One Family subclass per domain whose cards train, judge or export differently from the tabular ones
(assets/family.py): the steps ExampleChains calls, named by reference in each domain's defs.yaml."""
