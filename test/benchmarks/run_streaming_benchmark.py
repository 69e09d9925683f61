#!/usr/bin/env python3
"""Peak memory of normalising a slide larger than the memory budget, region by region.

  /usr/bin/python3 test/benchmarks/run_streaming_benchmark.py [--build BUILD] [--work DIR] [--divisions N]

Converts ../shared/data/her2st-C2's 92-Mpx JPEG once to an uncompressed MetaImage (streamable), then
runs `c2l normalize --estimate-shrink 8` (stains estimated on a down-sampled streamed read, then the
slide normalised in N regions) and reports each process's peak resident memory against the image's
size as RGB uint8. It then normalises the slide whole, in memory, with the same source parameters,
and streamed again by StreamingNormalize (the same pipeline as an ITK user's program on the
torch-free library), and checks all outputs are byte-identical. Each measured command runs in its
own process; the baseline is `c2l normalize --help` (the executable and its libraries, no image;
c2l also carries LibTorch for its diffusion commands).
"""
import argparse
import filecmp
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def peak_memory_mib(command):
    """Peak resident memory of a command, in MiB: (total, anonymous).

    Total is getrusage's ru_maxrss of the child (through a fresh python, so RUSAGE_CHILDREN is its
    alone). It counts the shared libraries' pages the process touched, LibTorch's among them (about
    150 MiB at start-up). Anonymous is the peak of RssAnon in /proc/PID/status, sampled every 2 ms:
    the memory the process allocated itself (heap, buffers), which is what streaming bounds.
    """
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
             "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    wrapper = subprocess.Popen([sys.executable, "-c", probe] + command, stdout=subprocess.PIPE, text=True)
    anonymous_kib = 0
    while wrapper.poll() is None:
        try:
            children = subprocess.run(["pgrep", "-P", str(wrapper.pid)], capture_output=True, text=True).stdout.split()
            for pid in children:
                with open("/proc/%s/status" % pid) as status:
                    for line in status:
                        if line.startswith("RssAnon:"):
                            anonymous_kib = max(anonymous_kib, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.002)
    code, kib = wrapper.stdout.read().split()
    if int(code) != 0:
        sys.exit("error: %s exited with %s" % (" ".join(command), code))
    return int(kib) / 1024.0, anonymous_kib / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "..", "build"))
    ap.add_argument("--work", default=None, help="folder for the converted slide and outputs (default BUILD/streaming)")
    ap.add_argument("--data", default=os.path.join(HERE, "..", "..", "..", "shared", "data"))
    ap.add_argument("--divisions", type=int, default=0, help="regions (default: c2l's automatic choice)")
    args = ap.parse_args()
    work = args.work or os.path.join(args.build, "streaming")
    os.makedirs(work, exist_ok=True)
    c2l = os.path.join(args.build, "examples", "c2l", "c2l")
    convert = os.path.join(args.build, "test", "benchmarks", "ConvertToMetaImage")
    pipeline = os.path.join(args.build, "test", "benchmarks", "StreamingNormalize")
    jpeg = os.path.join(args.data, "her2st-C2", "images", "C2_5714_HE_BT_C2.jpg")
    target = os.path.join(args.data, "stain-golden", "target_image.png")
    for path in (c2l, convert, pipeline, jpeg, target):
        if not os.path.exists(path):
            sys.exit("error: %s not found" % path)

    slide = os.path.join(work, "her2st-C2.mha")
    if not os.path.exists(slide):
        subprocess.run([convert, jpeg, slide], check=True)
    with open(slide, "rb") as header:  # the text header, then the pixels
        lines = header.read(2000).decode("latin-1").split("ElementDataFile")[0].splitlines()
    fields = dict(line.split(" = ", 1) for line in lines if " = " in line)
    width, height = (int(v) for v in fields["DimSize"].split())
    image_mib = width * height * 3 / 2**20

    def path(name):
        return os.path.join(work, name)

    for name in ("target.json", "source.json", "streamed.mha", "whole.mha", "pipeline.mha", "target-out.png"):
        if os.path.exists(path(name)):
            os.remove(path(name))
    subprocess.run([c2l, "normalize", "--target", target, "--save-target-params", path("target.json"),
                    target, path("target-out.png")], check=True, stdout=subprocess.DEVNULL)

    baseline, baseline_anonymous = peak_memory_mib([c2l, "normalize", "--help"])
    divisions = ["--stream-divisions", str(args.divisions)] if args.divisions > 0 else []
    streamed, streamed_anonymous = peak_memory_mib(
        [c2l, "normalize", "--target-params", path("target.json"), "--estimate-shrink", "8"] + divisions +
        ["--save-source-params", path("source.json"), slide, path("streamed.mha")])
    whole, whole_anonymous = peak_memory_mib([c2l, "normalize", "--target-params", path("target.json"),
                                              "--source-params", path("source.json"), "--stream-divisions", "1",
                                              slide, path("whole.mha")])
    identical = filecmp.cmp(path("streamed.mha"), path("whole.mha"), shallow=False)
    # The same streaming in an ITK user's own program on the torch-free library.
    regions = str(args.divisions or -(-width * height // (1 << 22)))
    pipeline_peak, pipeline_anonymous = peak_memory_mib(
        [pipeline, path("target.json"), slide, path("pipeline.mha"), "8", regions])
    pipeline_identical = filecmp.cmp(path("pipeline.mha"), path("streamed.mha"), shallow=False)

    result = {
        "image": "%d x %d RGB uint8 (%.1f MiB)" % (width, height, image_mib),
        "stream_divisions": args.divisions or "automatic (about 4 Mpx regions)",
        "baseline_peak_mib": round(baseline, 1),
        "baseline_anonymous_mib": round(baseline_anonymous, 1),
        "streamed_peak_mib": round(streamed, 1),
        "streamed_anonymous_mib": round(streamed_anonymous, 1),
        "streamed_peak_fraction_of_image": round(streamed / image_mib, 3),
        "streamed_anonymous_fraction_of_image": round(streamed_anonymous / image_mib, 3),
        "streamed_peak_above_baseline_fraction_of_image": round((streamed - baseline) / image_mib, 3),
        "whole_peak_mib": round(whole, 1),
        "whole_anonymous_mib": round(whole_anonymous, 1),
        "streamed_equals_whole": identical,
        "pipeline_peak_mib": round(pipeline_peak, 1),
        "pipeline_anonymous_mib": round(pipeline_anonymous, 1),
        "pipeline_peak_fraction_of_image": round(pipeline_peak / image_mib, 3),
        "pipeline_equals_c2l": pipeline_identical,
    }
    print(json.dumps(result, indent=2))
    if not identical or not pipeline_identical:
        sys.exit("error: the streamed outputs differ from the whole-image output")


if __name__ == "__main__":
    main()
