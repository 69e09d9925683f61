#!/usr/bin/python3
"""torchvision reference of the gene regressor's ResNet, for the C++ agreement test.

For resnet18 and resnet50 it builds torchvision's own model with a seeded initialisation, a head fc
of GENES outputs and randomised BatchNorm statistics and affine parameters (so that eval mode uses
them), and writes into the output folder:
  resnet<D>.safetensors     the state_dict (torchvision's names, num_batches_tracked included)
  resnet<D>_io.safetensors  "patches" uint8 [2, 32, 32, 3], "images" float [2, 3, 32, 32] in [0, 1]
                            (patches / 255 as ToTensor makes them), and the eval-mode "expected"
                            output of model(Normalize(ImageNet mean, std)(images)) and its pooled
                            penultimate "features"
Usage: /usr/bin/python3 resnet_reference.py OUTPUT_FOLDER
Exits with status 3 (and says so) when torchvision is not installed.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from safetensors_writer import write_safetensors  # noqa: E402

try:
    import torchvision
except ImportError:
    print("torchvision is not installed for " + sys.executable)
    sys.exit(3)

GENES = 5
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)




def features(model, x):
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    x = model.layer4(model.layer3(model.layer2(model.layer1(x))))
    return torch.flatten(model.avgpool(x), 1)


def main(folder):
    torch.set_num_threads(1)
    for depth in (18, 50):
        torch.manual_seed(depth)
        model = getattr(torchvision.models, "resnet%d" % depth)(weights=None)
        model.fc = torch.nn.Linear(model.fc.in_features, GENES)
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, torch.nn.BatchNorm2d):
                    module.running_mean.uniform_(-0.2, 0.2)
                    module.running_var.uniform_(0.5, 2.0)
                    module.weight.uniform_(0.5, 1.5)
                    module.bias.uniform_(-0.2, 0.2)
                    module.num_batches_tracked.fill_(7)
        model.eval()
        patches = torch.randint(0, 256, (2, 32, 32, 3), dtype=torch.uint8)
        images = patches.permute(0, 3, 1, 2).float().div(255)
        with torch.no_grad():
            normalised = (images - MEAN) / STD
            expected = model(normalised)
            pooled = features(model, normalised)
        write_safetensors(os.path.join(folder, "resnet%d.safetensors" % depth), model.state_dict())
        write_safetensors(os.path.join(folder, "resnet%d_io.safetensors" % depth),
                          {"patches": patches, "images": images, "expected": expected, "features": pooled})


if __name__ == "__main__":
    main(sys.argv[1])
