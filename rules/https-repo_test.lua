test "an http repository is a violation" {
  entities = { application { name = "pay", repo = "http://git.example.com/pay.git" } },
  expect = { { subject = "pay", message = "http://git.example.com/pay.git" } },
}

test "https, ssh and no repo pass" {
  entities = {
    application { name = "a", repo = "https://git.example.com/a.git" },
    application { name = "b", repo = "git@git.example.com:team/b.git" },
    application { name = "c", repo = "ssh://git.example.com/c.git" },
    application { name = "d" },
  },
  expect = {},
}
