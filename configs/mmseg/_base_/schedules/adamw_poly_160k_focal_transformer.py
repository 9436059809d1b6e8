# The Swin UPerNet schedule the authors say they follow (Swin-Transformer-Semantic-Segmentation): the FocalNet
# schedule of this folder (AdamW 6e-5, weight decay 0.01, 1500 iterations of linear warm-up, linear decay to 0 at
# 160k) with no weight decay on Swin's key list: norms, the bias tables (the substring also covers `_to_neighbors`
# and `_to_windows`) and the absolute position embedding.
_base_ = './adamw_poly_160k.py'

optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            'norm': dict(decay_mult=0.),
            'relative_position_bias_table': dict(decay_mult=0.),
            'absolute_pos_embed': dict(decay_mult=0.),
        }))
