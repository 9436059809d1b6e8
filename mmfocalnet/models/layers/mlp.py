"""The two-layer MLP of transformer-style blocks, with the parameter names the official focal models use."""
from mmcv.cnn import build_activation_layer
from torch import nn

from .onednn_linear import Linear
from .token_chunks import mlp_in_token_chunks, mlp_runs_in_token_chunks


class Mlp(nn.Module):
    """Two-layer MLP ``fc1 -> act -> drop -> fc2 -> drop`` on channels-last tokens.

    Args:
        dims (int): Input and output channels.
        hidden_dims (int): Hidden channels.
        drop (float): Dropout after each layer. Defaults to 0.
        act_cfg (dict): Activation. Defaults to ``dict(type='GELU')``.
    """

    def __init__(self, dims, hidden_dims, drop=0., act_cfg=dict(type='GELU')):
        super().__init__()
        self.fc1 = Linear(dims, hidden_dims)
        self.act = build_activation_layer(act_cfg)
        self.fc2 = Linear(hidden_dims, dims)
        self.drop = nn.Dropout(drop)

    def forward(self, x):
        if mlp_runs_in_token_chunks(x, self):  # inference on CPU: the hidden activation stays in cache
            return mlp_in_token_chunks(x, self.fc1, self.act, self.fc2)
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))
