-- DropTable
DROP TABLE "notification_cursors";
