"""Starts 2 local ranks of a program exactly as torchrun does (the elastic agent hosts the store;
the ranks get TORCHELASTIC_USE_AGENT_STORE=True and torchrun's variables), through the launcher
API that torchrun's command line calls. Debian 12's torchrun command line (PyTorch 1.13 under
Python 3.11) fails before it starts anything (its Std.from_str returns None for the default
redirects), so the redirects are passed explicitly here; nothing else differs from torchrun.

Usage: torchrun_launch.py PORT PROGRAM [ARGUMENTS...]
"""
import sys

from torch.distributed.elastic.multiprocessing import Std
from torch.distributed.launcher.api import LaunchConfig, elastic_launch

port, program, arguments = sys.argv[1], sys.argv[2], sys.argv[3:]
config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=2, run_id="c2l-test", rdzv_backend="static",
                      rdzv_endpoint=f"127.0.0.1:{port}", rdzv_configs={"rank": 0}, max_restarts=0,
                      redirects=Std.NONE, tee=Std.NONE, monitor_interval=0.5)
elastic_launch(config, entrypoint=program)(*arguments)
