/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// ipcx.hpp compiles as strict C++17 with the common extra warnings on (-Wpedantic
// -Wconversion -Wsign-conversion -Wshadow -Wold-style-cast ...), included twice, with
// and without exceptions (cpp-tests/CMakeLists.txt builds it both ways), with no other
// header before it; the templates (timeouts, byte views, spans) are instantiated here so
// that their bodies are checked too.
#include "ipcx.hpp"
#include "ipcx.hpp"

#include <array>

int main() {
    using namespace std::chrono_literals;
    static_assert(ipcx::timeout(1us).ms() == 1 && ipcx::timeout(2s).ms() == 2000);
    static_assert(ipcx::timeout(std::chrono::duration<double, std::milli>(0.5)).ms() == 1);
    static_assert(ipcx::timeout(std::chrono::duration<float>(2.0f)).ms() == 2000);
    static_assert(ipcx::timeout(std::chrono::duration<unsigned, std::micro>(1500u)).ms() == 2);
    static_assert(ipcx::timeout(-1min).ms() == 0 && ipcx::forever.is_forever());

    std::array<uint16_t, 4> a{};
    std::vector<int32_t> v(3);
    std::string s = "abc";
    char buf[8] = {};
    ipcx::bytes b1 = a, b2 = v, b3 = s, b4 = "abc", b5 = std::string_view("xy");
    ipcx::mutable_bytes m1 = buf, m2 = v, m3 = s;
    ipcx::bytes b6 = m1;
    ipcx::span<const int32_t> sp1 = v;
    ipcx::span<int32_t> sp3 = v;
    auto count = [](ipcx::span<const std::string_view> l) { return l.size(); };
    auto sum = [](ipcx::span<const int32_t> l) {
        size_t n = 0;
        for (int32_t x : l) n += static_cast<size_t>(x);
        return n;
    };
    size_t total = b1.size() + b2.size() + b3.size() + b4.size() + b5.size() + b6.size() +
                   m2.size() + m3.size() + sp1.size() + sum({1, 1, 1}) + sp3.size() +
                   count({"/tmp"});
    if (total != 8 + 12 + 3 + 3 + 2 + 8 + 12 + 3 + 3 + 3 + 3 + 1) return 1;

    std::error_code ec;
    auto o = ipcx::options::create(ec);
    if (ec) return 1;
    o.set_mode(0600, ec);
    o.set_spin(ipcx::spin_forever, ec);
    o.set_keepalive(30s, ec);
    if (ec) return 1;
    ipcx::sigset set;
    set.add(10, ec);
    if (ec || !set.has(10)) return 1;
    if (std::string_view(ipcx::version()) != IPCX_VERSION_STRING) return 1;
    if (ipcx::category().message(IPCX_ERR_TIMEOUT) != ipcx_strerror(IPCX_ERR_TIMEOUT)) return 1;
    return o.close() ? 1 : 0;
}
