"""`tools/demo.py --quick`: the whole demo path (data, tools/train.py, tools/test.py, DetInferencer, figures)."""
import subprocess
import sys
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[2]


def test_quick_demo_trains_tests_infers_and_draws(tmp_path):
    work_dir, out_dir = tmp_path / 'work', tmp_path / 'out'
    proc = subprocess.run([
        sys.executable,
        str(REPO / 'tools/demo.py'), '--quick', '--work-dir',
        str(work_dir), '--out-dir',
        str(out_dir)
    ],
                          cwd=tmp_path,
                          stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-5000:]
    log = proc.stdout
    # Both models were trained by tools/train.py and their last checkpoints tested by tools/test.py.
    for part in ('classifier', 'detector'):
        assert list((work_dir / part / 'train').glob('epoch_1.pth'))
        assert list((work_dir / part / 'test').glob('*/*.json'))
    assert 'accuracy/top1' in log and 'coco/bbox_mAP_50' in log
    summary = log[log.index('[demo] summary'):]
    for step in ('data', 'classifier', 'detector', 'inference', 'modulation figures', 'total'):
        assert f'\n{step} ' in summary
    # The pictures a person looks at.
    tile_with_boxes = next((out_dir / 'inference' / 'vis').glob('*.png'))
    figures = [out_dir / 'modulation_tree-tile.png', out_dir / 'modulation_fashion-mnist.png']
    for picture in [tile_with_boxes] + figures:
        with Image.open(picture) as image:
            assert min(image.size) > 100
