// std::thread, std::condition_variable and std::async.
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

int main() {
  std::mutex m;
  std::condition_variable cv;
  int ready = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; i++)
    threads.emplace_back([&] {
      std::unique_lock lock(m);
      ready++;
      cv.notify_all();
    });
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return ready == 4; });
  }
  for (auto& t : threads) t.join();
  auto answer = std::async(std::launch::async, [] { return 6 * 7; });
  std::printf("%s threads_ready %d\n", ready == 4 ? "ok" : "FAIL", ready);
  int value = answer.get();
  std::printf("%s async %d\n", value == 42 ? "ok" : "FAIL", value);
  return ready == 4 && value == 42 ? 0 : 1;
}
