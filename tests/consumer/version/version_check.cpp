// Compiled by ctest version_matches (check.cmake) with -DEXPECT_MAJOR/MINOR/PATCH taken from
// project(VERSION) in CMakeLists.txt: phrony/version.hpp must agree with it, and with itself.
#include <phrony/version.hpp>

#include <string_view>

#define PHRONY_STR2(x) #x
#define PHRONY_STR(x) PHRONY_STR2(x)

static_assert(PHRONY_VERSION_MAJOR == EXPECT_MAJOR, "PHRONY_VERSION_MAJOR != project(VERSION)");
static_assert(PHRONY_VERSION_MINOR == EXPECT_MINOR, "PHRONY_VERSION_MINOR != project(VERSION)");
static_assert(PHRONY_VERSION_PATCH == EXPECT_PATCH, "PHRONY_VERSION_PATCH != project(VERSION)");
static_assert(PHRONY_VERSION == EXPECT_MAJOR * 10000 + EXPECT_MINOR * 100 + EXPECT_PATCH,
              "PHRONY_VERSION != MAJOR * 10000 + MINOR * 100 + PATCH");
static_assert(
    std::string_view(PHRONY_VERSION_STRING) ==
        PHRONY_STR(EXPECT_MAJOR) "." PHRONY_STR(EXPECT_MINOR) "." PHRONY_STR(EXPECT_PATCH),
    "PHRONY_VERSION_STRING != \"MAJOR.MINOR.PATCH\"");
#if PHRONY_VERSION < 100 // usable in #if, as documented
#error "PHRONY_VERSION is not a preprocessor number"
#endif
