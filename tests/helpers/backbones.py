"""Small settings of every backbone of this package, for the contract test that runs over all of them.

A new backbone adds one entry here (a few blocks, narrow channels) and gets the whole contract test for free;
the contract test fails for a registered backbone that has no entry.
"""
SMALL_BACKBONES = {
    'FocalNet': dict(arch='tiny_srf', depths=[1, 1, 2, 1], embed_dims=16, drop_path_rate=0.0),
    # Surrounding tokens in every stage (the detection structure), so that every table kind is exercised.
    'FocalTransformer': dict(arch='tiny', depths=[1, 1, 2, 1], embed_dims=24, expand_sizes=3, drop_path_rate=0.0),
}
