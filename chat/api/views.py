"""The chat API (H3): tokens of the «Online-чат» scope read conversations and
their messages and answer them (through the visitor's channel, as the console
does).  Another account's id is a 404."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cabinet.api.errors import ApiError
from cabinet.api.pagination import ApiCursorPagination

from .. import selectors, services
from ..models import MAX_TEXT, ChatMessage, Conversation


class HasChatScope(BasePermission):
    message = _(
        "Этот токен не даёт доступа к API Online-чата: нужна область «Online-чат»."
    )

    def has_permission(self, request, view):
        token = getattr(request.user, "token", None)
        return token is not None and "chat" in (token.scopes or [])


class ChatMessageSerializer(serializers.ModelSerializer):
    operator = serializers.SerializerMethodField()

    class Meta:
        model = ChatMessage
        fields = [
            "id",
            "conversation",
            "author",
            "operator",
            "channel",
            "text",
            "created_at",
        ]
        read_only_fields = fields

    def get_operator(self, obj) -> str:
        return obj.operator.name if obj.operator_id else ""


class ChatConversationSerializer(serializers.ModelSerializer):
    visitor = serializers.SerializerMethodField()
    phone = serializers.CharField(source="visitor.phone")
    site = serializers.SerializerMethodField()
    operator = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = [
            "id",
            "visitor",
            "phone",
            "site",
            "channel",
            "campaign",
            "status",
            "unread",
            "operator",
            "created_at",
            "last_message_at",
        ]
        read_only_fields = fields

    def get_visitor(self, obj) -> str:
        return obj.visitor.label()

    def get_site(self, obj) -> str:
        return obj.site.address if obj.site_id else ""

    def get_operator(self, obj) -> str:
        return obj.operator.name if obj.operator_id else ""


class ChatSendSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=MAX_TEXT, trim_whitespace=True)
    client_id = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="Your id of the answer: a repeat returns the first message",
    )


class _ChatView(APIView):
    permission_classes = [IsAuthenticated, HasChatScope]

    def conversation(self, request, pk) -> Conversation:
        try:
            return selectors.conversation_get(
                account_id=request.user.account_id, conversation_id=pk
            )
        except Conversation.DoesNotExist:
            raise ApiError(
                "Диалог не найден.", code="not_found", status_code=404
            ) from None


class ConversationsView(_ChatView, generics.ListAPIView):
    serializer_class = ChatConversationSerializer
    pagination_class = ApiCursorPagination

    def get_queryset(self):
        status_ = self.request.query_params.get("status", "")
        if status_ not in ("", "open", "closed"):
            raise ApiError("status: open или closed.", code="invalid")
        qs = Conversation.objects.filter(
            account_id=self.request.user.account_id
        ).select_related("visitor", "site", "operator")
        return qs.filter(status=status_) if status_ else qs

    @extend_schema(
        summary="Диалоги Online-чата",
        description="The account's conversations, newest first. "
        "`?status=open|closed`.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ConversationDetailView(_ChatView):
    @extend_schema(summary="Диалог", responses={200: ChatConversationSerializer})
    def get(self, request, pk: int):
        return Response(ChatConversationSerializer(self.conversation(request, pk)).data)


class MessagesPagination(ApiCursorPagination):
    ordering = "id"


class MessagesView(_ChatView, generics.ListAPIView):
    serializer_class = ChatMessageSerializer
    pagination_class = MessagesPagination

    def get_queryset(self):
        conv = self.conversation(self.request, self.kwargs["pk"])
        after = self.request.query_params.get("after", "0")
        if not after.isdigit():
            raise ApiError("after: номер сообщения.", code="invalid")
        return ChatMessage.objects.filter(
            conversation=conv, pk__gt=int(after)
        ).select_related("operator")

    @extend_schema(
        summary="Сообщения диалога",
        description="Oldest first; `?after=<id>`: only messages after that id.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Ответить в диалоге",
        description="Sent to the visitor live, or — for a conversation started by "
        "an SMS or Viber reply — through that channel (charged like any message). "
        "A repeated `client_id` returns the first message.",
        request=ChatSendSerializer,
        responses={201: ChatMessageSerializer},
    )
    def post(self, request, pk: int, **kwargs):
        conv = self.conversation(request, pk)
        ser = ChatSendSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            msg = services.operator_message(
                conversation=conv,
                text=ser.validated_data["text"],
                client_id=ser.validated_data.get("client_id", ""),
            )
        except services.ChatError as exc:
            raise ApiError(exc.message, code=exc.code) from exc
        return Response(ChatMessageSerializer(msg).data, status=status.HTTP_201_CREATED)
