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
#ifndef itkLoopbackPort_h
#define itkLoopbackPort_h

// Free loopback ports for the data-parallel tests: ctest runs tests in parallel, so none may assume
// a fixed port.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace itk
{
namespace testing
{

/** A socket bound to a free loopback port; the port is free again once the socket is closed. */
class LoopbackSocket
{
public:
  LoopbackSocket()
  {
    m_Socket = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(m_Socket, reinterpret_cast<sockaddr *>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    getsockname(m_Socket, reinterpret_cast<sockaddr *>(&address), &length);
    m_Port = ntohs(address.sin_port);
  }
  ~LoopbackSocket() { Close(); }
  LoopbackSocket(const LoopbackSocket &) = delete;
  LoopbackSocket &
  operator=(const LoopbackSocket &) = delete;
  void
  Listen()
  {
    listen(m_Socket, 1);
  }
  void
  Close()
  {
    if (m_Socket >= 0)
    {
      close(m_Socket);
      m_Socket = -1;
    }
  }
  unsigned int
  Port() const
  {
    return m_Port;
  }

private:
  int          m_Socket{ -1 };
  unsigned int m_Port{ 0 };
};

/** A port that was free a moment ago (the kernel's choice of an unused one). */
inline unsigned int
FreePort()
{
  return LoopbackSocket().Port();
}

} // namespace testing
} // namespace itk

#endif
