/*=========================================================================
 *
 *  Copyright NumFOCUS
 *
 *  Licensed under the Apache License, Version 2.0 (the "License");
 *  you may not use this file except in compliance with the License.
 *  You may obtain a copy of the License at
 *
 *         http://www.apache.org/licenses/LICENSE-2.0.txt
 *
 *  Unless required by applicable law or agreed to in writing, software
 *  distributed under the License is distributed on an "AS IS" BASIS,
 *  WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 *  See the License for the specific language governing permissions and
 *  limitations under the License.
 *
 *=========================================================================*/
// c2l under faults, as they happen to users: the process killed (SIGKILL: no handler runs) at points
// spread over every stage of `c2l run`, then run again; and the disk filling up while a checkpoint
// or a dataset is written.

#include "c2lTestHarness.h"
#include "c2lTinyPipeline.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <iterator>
#include <optional>
#include <random>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace
{
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

/** A stage as the reference run printed it: its name ("[adapt]") and how long it ran. */
struct StageTiming
{
  std::string name;
  double      seconds;
};

/** Where to kill a run: when \p stage has run for \p delay seconds (0: as it starts), or, should
 * the run get further first, as the next stage starts. \p later: the stages after \p stage in an
 * uninterrupted run (one of them starting means the run is past \p stage). */
struct KillPoint
{
  std::string              stage;
  double                   delay;
  std::vector<std::string> later;
};

/** What became of a run the test started. */
struct Outcome
{
  bool                     killed{ false };
  int                      exitCode{ -1 };
  std::vector<StageTiming> stages; // the stages it started, in order, with their wall times
  std::string              output;
};

/** Runs c2l with \p arguments in a process group of its own (it starts xvfb-run for the report's
 * figures), reading its output line by line; with \p kill, SIGKILLs the whole group at that point
 * of its run. A line "[name]" alone is a stage starting (a kept stage prints more on that line). */
Outcome
RunC2l(const std::vector<std::string> & arguments, const std::optional<KillPoint> & kill)
{
  int channel[2];
  if (pipe(channel) != 0)
  {
    ADD_FAILURE() << "pipe failed";
    return {};
  }
  const pid_t child = fork();
  if (child == 0)
  {
    setpgid(0, 0);
    dup2(channel[1], STDOUT_FILENO);
    dup2(channel[1], STDERR_FILENO);
    close(channel[0]);
    close(channel[1]);
    std::vector<char *> argv{ const_cast<char *>(C2L_EXECUTABLE) };
    for (const auto & a : arguments)
    {
      argv.push_back(const_cast<char *>(a.c_str()));
    }
    argv.push_back(nullptr);
    execv(C2L_EXECUTABLE, argv.data());
    _exit(127);
  }
  setpgid(child, child); // also here: the group exists before the parent may signal it
  close(channel[1]);

  Outcome                          outcome;
  std::string                      pending;
  Clock::time_point                stageStart = Clock::now();
  std::optional<Clock::time_point> killAt;
  bool                             open = true;
  bool                             killSent = false;
  while (open)
  {
    int timeout = 1000;
    if (killAt)
    {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*killAt - Clock::now()).count();
      timeout = static_cast<int>(std::max<long long>(0, left));
    }
    pollfd readable{ channel[0], POLLIN, 0 };
    if (poll(&readable, 1, timeout) > 0)
    {
      char          buffer[4096];
      const ssize_t n = read(channel[0], buffer, sizeof(buffer));
      if (n <= 0)
      {
        open = false;
      }
      else
      {
        pending.append(buffer, static_cast<std::size_t>(n));
      }
    }
    for (std::size_t end = pending.find('\n'); end != std::string::npos; end = pending.find('\n'))
    {
      const std::string line = pending.substr(0, end);
      pending.erase(0, end + 1);
      outcome.output += line + "\n";
      if (line.size() > 2 && line.front() == '[' && line.back() == ']')
      {
        const auto now = Clock::now();
        if (!outcome.stages.empty())
        {
          outcome.stages.back().seconds = std::chrono::duration<double>(now - stageStart).count();
        }
        outcome.stages.push_back({ line, 0.0 });
        stageStart = now;
        if (kill && !killAt && line == kill->stage)
        {
          killAt = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(kill->delay));
        }
        else if (kill && (killAt || std::count(kill->later.begin(), kill->later.end(), line) > 0))
        {
          // The stage ended sooner than in the reference run (which may have shared the machine),
          // or had ended in an earlier run: kill as the next one starts, not somewhere further on.
          killAt = now;
        }
      }
    }
    if (killAt && Clock::now() >= *killAt && !killSent)
    {
      ::kill(-child, SIGKILL);
      killSent = true;
    }
  }
  close(channel[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (!outcome.stages.empty())
  {
    outcome.stages.back().seconds = std::chrono::duration<double>(Clock::now() - stageStart).count();
  }
  outcome.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  outcome.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (outcome.killed)
  {
    ::kill(-child, SIGKILL); // anything of the group still alive (an X server)
  }
  return outcome;
}

/** Every file under \p folder, by its name relative to it, sorted. */
std::vector<std::string>
ResultFiles(const fs::path & folder)
{
  std::vector<std::string> files;
  for (const auto & entry : fs::recursive_directory_iterator(folder))
  {
    if (entry.is_regular_file())
    {
      files.push_back(fs::relative(entry.path(), folder).string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

class C2LFaults : public c2lTest::CommandFixture
{
protected:
  void
  SetUp() override
  {
    UseFolder(fs::path(PIPELINE_TEST_OUTPUT) / ("c2l-faults-" + std::to_string(::getpid())));
  }
};

// The run is killed at two points of every stage (as it starts, and at a seeded random fraction of
// the time the stage took in an uninterrupted run, or as the next stage starts should it end
// sooner), 28 kills in all, each followed by a new run that resumes; the last run finishes. Every model, dataset,
// prediction table and metric then equals the uninterrupted run's, and no partial file is left.
TEST_F(C2LFaults, KilledTwiceInEveryStageThenResumedEqualsAnUninterruptedRun)
{
  ASSERT_EQ(Run("synth-slide --spots 60 --seed 3 --out " + Path("slide")).exitCode, 0);
  // Both runs write to the same folder (the reference is moved away once done): files record the
  // paths they were made from.
  std::ofstream(Path("pipeline.json")) << c2lTest::TinyPipelineConfig(Path("run"), Path("slide")).dump(2);
  const std::vector<std::string> run{ "run", "--config", Path("pipeline.json") };

  const auto reference = RunC2l(run, std::nullopt);
  ASSERT_EQ(reference.exitCode, 0) << reference.output;
  ASSERT_GE(reference.stages.size(), 13u) << reference.output;
  fs::rename(Path("run"), Path("reference"));

  std::mt19937                           random(7);
  std::uniform_real_distribution<double> fraction(0.1, 0.9);
  std::vector<KillPoint>                 points;
  for (auto stage = reference.stages.begin(); stage != reference.stages.end(); ++stage)
  {
    std::vector<std::string> later;
    std::transform(
      stage + 1, reference.stages.end(), std::back_inserter(later), [](const StageTiming & next) { return next.name; });
    points.push_back({ stage->name, 0.0, later });
    points.push_back({ stage->name, fraction(random) * stage->seconds, later });
  }
  std::size_t kills = 0;
  std::string history;
  for (const auto & point : points)
  {
    const auto outcome = RunC2l(run, point);
    history += point.stage + " +" + std::to_string(point.delay) +
               " s: " + (outcome.killed ? "killed" : "exit " + std::to_string(outcome.exitCode)) + "\n";
    if (outcome.killed)
    {
      ++kills;
    }
    else
    {
      // The stage was already done (a kill in its last moments landed in the next one) or the
      // run finished first: either way it must not have failed.
      ASSERT_EQ(outcome.exitCode, 0) << history << outcome.output;
    }
  }
  // Only the last stage's second point may find its stage done before it (the run then finishes).
  EXPECT_GE(kills, points.size() - 1) << history;
  const auto last = RunC2l(run, std::nullopt);
  ASSERT_EQ(last.exitCode, 0) << history << last.output;

  // The same files, and the same bytes in each, but for records of time and of the run's own path.
  const auto               files = ResultFiles(Path("reference"));
  const auto               resumed = ResultFiles(Path("run"));
  std::vector<std::string> different;
  std::set_symmetric_difference(
    resumed.begin(), resumed.end(), files.begin(), files.end(), std::back_inserter(different));
  EXPECT_TRUE(different.empty()) << "files of only one of the two runs: " << json(different).dump() << "\n" << history;
  for (const auto & file : files)
  {
    const bool timed = file.rfind("stages/", 0) == 0 || file == "pipeline.json" || file == "report.md" ||
                       file == "report.html" || file == "evaluation/evaluation.json" ||
                       file.rfind("figures/", 0) == 0 || file == ".c2l-run.lock";
    if (!timed)
    {
      EXPECT_TRUE(FileBytes(Path("run/" + file)) == FileBytes(Path("reference/" + file))) << file << " differs";
    }
  }
  auto withoutTimes = [this](const std::string & run) {
    auto evaluation = json::parse(FileBytes(Path(run + "/evaluation/evaluation.json")));
    evaluation["imputation"].erase("seconds");
    return evaluation;
  };
  EXPECT_EQ(withoutTimes("run"), withoutTimes("reference")) << history;
}

TEST_F(C2LFaults, AFullDiskDuringACheckpointKeepsThePreviousOne)
{
  ASSERT_EQ(Run("synth-slide --spots 24 --seed 3 --out " + Path("slide")).exitCode, 0);
  ASSERT_EQ(Run("extract --slide " + Path("slide/image.tif") + " --spots " + Path("slide/outs") +
                " --genes 10 --patch-px 16 --out " + Path("data.h5"))
              .exitCode,
            0);
  const std::string tiny = " --data " + Path("data.h5") + " --out " + Path("m.safetensors") +
                           " --base-channels 16 --scales 2 --layers-per-block 1 --batch 4 --threads 1 --seed 1";
  const auto trained = Run("pretrain" + tiny + " --steps 4 --checkpoint-every 2");
  ASSERT_EQ(trained.exitCode, 0) << trained.output;
  const auto checkpoint = FileBytes(Path("m.safetensors.checkpoint"));
  const auto model = FileBytes(Path("m.safetensors"));
  ASSERT_GT(checkpoint.size(), 1000000u);

  // Room for 500 kB per file: the loss log fits, the next checkpoint (about 3 MB) does not.
  const auto full = RunWithFileSizeLimit(500000, "pretrain" + tiny + " --steps 8 --checkpoint-every 2 --resume");
  ExpectOneLineError(full, "File too large");
  EXPECT_NE(full.output.find("m.safetensors.checkpoint"), std::string::npos) << full.output;
  EXPECT_EQ(FileBytes(Path("m.safetensors.checkpoint")), checkpoint);
  EXPECT_EQ(FileBytes(Path("m.safetensors")), model);
  for (const auto & entry : fs::directory_iterator(m_Folder))
  {
    EXPECT_EQ(entry.path().filename().string().find(".partial-"), std::string::npos) << entry.path();
  }
  // With room again, the run resumes from the checkpoint that was kept.
  const auto resumed = Run("pretrain" + tiny + " --steps 8 --checkpoint-every 2 --resume");
  EXPECT_EQ(resumed.exitCode, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("trained 4 steps, to step 8"), std::string::npos) << resumed.output;
}

TEST_F(C2LFaults, AFullDiskDuringADatasetWriteLeavesNoFile)
{
  ASSERT_EQ(Run("synth-slide --spots 24 --seed 3 --out " + Path("slide")).exitCode, 0);
  const std::string extract = "extract --slide " + Path("slide/image.tif") + " --spots " + Path("slide/outs") +
                              " --genes 10 --patch-px 32 --out " + Path("data.h5");
  const auto full = RunWithFileSizeLimit(10000, extract);
  ExpectOneLineError(full, "File too large");
  EXPECT_NE(full.output.find(Path("data.h5")), std::string::npos) << full.output;
  std::vector<std::string> names;
  for (const auto & entry : fs::directory_iterator(m_Folder))
  {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{ "log.txt", "slide" }));
  // With room again, the same command writes the dataset.
  const auto written = Run(extract);
  EXPECT_EQ(written.exitCode, 0) << written.output;
  EXPECT_TRUE(fs::exists(Path("data.h5")));
}

} // namespace
