from django.core.mail import EmailMessage


def test_a_message_sent_through_django_arrives_at_the_loopback_server(smtp_server):
    EmailMessage(
        "Objet accentué",
        "Bonjour Zoé,\nvotre message.",
        "mutuelle@example.org",
        ["zoe@example.org"],
    ).send()
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["zoe@example.org"]
    assert received.message["Subject"] == "Objet accentué"
    assert "Bonjour Zoé" in received.body


def test_a_refused_recipient_is_not_delivered(smtp_server):
    smtp_server.refuse("nobody@example.org")
    sent = EmailMessage(
        "x", "y", "mutuelle@example.org", ["nobody@example.org", "zoe@example.org"]
    ).send(fail_silently=True)
    assert sent == 1
    assert [m.rcpt_tos for m in smtp_server.messages] == [["zoe@example.org"]]
